/** @jsxRuntime automatic @jsxImportSource react */
import {
  Body,
  Button,
  Container,
  Head,
  Heading,
  Hr,
  Html,
  Link,
  Preview,
  Section,
  Text,
} from "@react-email/components";
import type { CSSProperties, ReactNode } from "react";
import type { EmailContext } from "../email-template.ts";
import type { EmailLocale } from "../template-catalog.ts";

// The pieces every Balansity email is made of. Styles are inline objects (email clients ignore
// most <style> blocks); every user-provided value is passed as a React child or prop, never as
// raw HTML, so React escapes it.

const brandColor = "#0f766e";

const styles = {
  body: {
    backgroundColor: "#f4f6f8",
    fontFamily: "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    margin: 0,
    padding: "24px 0",
  },
  container: {
    backgroundColor: "#ffffff",
    borderRadius: "8px",
    maxWidth: "560px",
    padding: "32px",
  },
  brand: { color: brandColor, fontSize: "20px", fontWeight: 700, letterSpacing: "0.5px", margin: "0 0 24px" },
  heading: { color: "#111827", fontSize: "24px", lineHeight: "32px", margin: "0 0 16px" },
  paragraph: { color: "#1f2937", fontSize: "16px", lineHeight: "24px", margin: "0 0 16px" },
  details: { margin: "0 0 16px" },
  detail: { color: "#1f2937", fontSize: "16px", lineHeight: "24px", margin: "0 0 4px" },
  button: {
    backgroundColor: brandColor,
    borderRadius: "6px",
    color: "#ffffff",
    display: "inline-block",
    fontSize: "16px",
    fontWeight: 600,
    margin: "16px 0",
    padding: "12px 24px",
    textDecoration: "none",
  },
  link: { color: brandColor },
  hr: { borderColor: "#e5e7eb", margin: "24px 0 16px" },
  muted: { color: "#6b7280", fontSize: "13px", lineHeight: "20px", margin: "0 0 4px" },
} satisfies Record<string, CSSProperties>;

const layoutCopy: Record<EmailLocale, { footer: string; openApp: string; unsubscribe: string }> = {
  ru: {
    footer: "Вы получили это письмо, потому что пользуетесь сервисом Balansity.",
    openApp: "Открыть Balansity",
    unsubscribe: "Отписаться от напоминаний",
  },
  en: {
    footer: "You are receiving this email because you use Balansity.",
    openApp: "Open Balansity",
    unsubscribe: "Unsubscribe from reminders",
  },
};

interface EmailLayoutProps {
  readonly context: EmailContext;
  /** The inbox preview line (hidden in the body, skipped in the text version). */
  readonly preview: string;
  readonly heading: string;
  /** A support reference under the body: "Номер записи: …". */
  readonly reference?: string | undefined;
  readonly appUrl?: string | null | undefined;
  readonly children: ReactNode;
}

export function EmailLayout({ context, preview, heading, reference, appUrl, children }: EmailLayoutProps) {
  const copy = layoutCopy[context.locale];
  return (
    <Html lang={context.locale}>
      <Head />
      <Preview>{preview}</Preview>
      <Body style={styles.body}>
        <Container style={styles.container}>
          <Text style={styles.brand}>Balansity</Text>
          <Heading as="h1" style={styles.heading}>
            {heading}
          </Heading>
          {children}
          <Hr style={styles.hr} />
          {reference ? <Text style={styles.muted}>{reference}</Text> : null}
          <Text style={styles.muted}>{copy.footer}</Text>
          {appUrl ? (
            <Text style={styles.muted}>
              <Link href={appUrl} style={styles.link}>
                {copy.openApp}
              </Link>
            </Text>
          ) : null}
          {context.unsubscribeUrl ? (
            <Text style={styles.muted}>
              <Link href={context.unsubscribeUrl} style={styles.link}>
                {copy.unsubscribe}
              </Link>
            </Text>
          ) : null}
        </Container>
      </Body>
    </Html>
  );
}

const greetingCopy: Record<EmailLocale, { anonymous: string; named: (name: string) => string }> = {
  ru: { anonymous: "Здравствуйте!", named: (name) => `Здравствуйте, ${name}!` },
  en: { anonymous: "Hello,", named: (name) => `Hello ${name},` },
};

export function Greeting({ context, name }: { context: EmailContext; name: string | null | undefined }) {
  const copy = greetingCopy[context.locale];
  return <Paragraph>{name ? copy.named(name) : copy.anonymous}</Paragraph>;
}

export function Paragraph({ children }: { children: ReactNode }) {
  return <Text style={styles.paragraph}>{children}</Text>;
}

/** "Label: value" lines; a row whose value is absent is left out. */
export function Details({
  rows,
}: {
  rows: ReadonlyArray<readonly [label: string, value: string | null | undefined]>;
}) {
  const present = rows.filter((row): row is readonly [string, string] => Boolean(row[1]));
  if (present.length === 0) return null;
  return (
    <Section style={styles.details}>
      {present.map(([label, value]) => (
        <Text key={label} style={styles.detail}>
          <strong>{label}:</strong> {value}
        </Text>
      ))}
    </Section>
  );
}

export function ActionButton({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Button href={href} style={styles.button}>
      {children}
    </Button>
  );
}

export function SecondaryLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Paragraph>
      <Link href={href} style={styles.link}>
        {children}
      </Link>
    </Paragraph>
  );
}
