/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"operator_alert">;

const copy: Record<
  EmailLocale,
  {
    subject: (status: Variables["status"], condition: string) => string;
    heading: Record<Variables["status"], string>;
    lead: Record<Variables["status"], string>;
    repeat: string;
    condition: string;
    since: string;
    checkedAt: string;
    reference: (condition: string) => string;
  }
> = {
  ru: {
    subject: (status, condition) =>
      status === "firing" ? `Balansity: тревога ${condition}` : `Balansity: в норме ${condition}`,
    heading: { firing: "Нужна проверка оператора", resolved: "Условие больше не выполняется" },
    lead: {
      firing: "Проверка очередей обнаружила проблему:",
      resolved: "Проблема, о которой мы сообщали, устранена:",
    },
    repeat:
      "Пока условие выполняется, это письмо повторяется не чаще раза в час. Подробности: balansity alerts.",
    condition: "Условие",
    since: "Началось",
    checkedAt: "Проверено",
    reference: (condition) => `Условие: ${condition}`,
  },
  en: {
    subject: (status, condition) =>
      status === "firing" ? `Balansity alert: ${condition}` : `Balansity resolved: ${condition}`,
    heading: { firing: "An operator needs to look", resolved: "The condition has cleared" },
    lead: {
      firing: "The queue check found a problem:",
      resolved: "The problem we reported has cleared:",
    },
    repeat: "While the condition holds, this email repeats at most once an hour. Details: balansity alerts.",
    condition: "Condition",
    since: "Since",
    checkedAt: "Checked at",
    reference: (condition) => `Condition: ${condition}`,
  },
};

export const operatorAlert: EmailTemplate<Variables> = {
  subject: (variables, { locale }) => copy[locale].subject(variables.status, variables.condition),
  body: (variables, context) => {
    const t = copy[context.locale];
    return (
      <EmailLayout
        context={context}
        preview={variables.summary}
        heading={t.heading[variables.status]}
        reference={t.reference(variables.condition)}
        appUrl={variables.app_url}
      >
        <Greeting context={context} name={variables.user_name} />
        <Paragraph>{t.lead[variables.status]}</Paragraph>
        <Paragraph>{variables.summary}</Paragraph>
        <Details
          rows={[
            [t.condition, variables.condition],
            [t.since, context.format.dateTime(variables.since)],
            [t.checkedAt, context.format.dateTime(variables.checked_at)],
          ]}
        />
        {variables.status === "firing" ? <Paragraph>{t.repeat}</Paragraph> : null}
      </EmailLayout>
    );
  },
};
