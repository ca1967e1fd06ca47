/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"report_ready">;
type Title = string | null | undefined;

const copy: Record<
  EmailLocale,
  {
    subject: (title: Title) => string;
    heading: string;
    ready: (title: Title) => string;
    openReport: string;
    expires: (when: string) => string;
    attached: (fileName: string) => string;
    notAttached: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (title) => (title ? `Отчёт по чекапу «${title}» готов` : "Ваш отчёт готов"),
    heading: "Отчёт готов",
    ready: (title) =>
      title
        ? `Ваш отчёт по чекапу «${title}» готов. Откройте его по ссылке ниже.`
        : "Ваш отчёт по чекапу готов. Откройте его по ссылке ниже.",
    openReport: "Открыть отчёт",
    expires: (when) => `Ссылка действует до ${when}.`,
    attached: (fileName) => `Отчёт также приложен к письму: ${fileName}.`,
    notAttached: "Отчёт слишком большой, чтобы приложить его к письму: скачайте его по ссылке.",
    reference: (id) => `Номер чекапа: ${id}`,
  },
  en: {
    subject: (title) => (title ? `Your report for “${title}” is ready` : "Your report is ready"),
    heading: "Your report is ready",
    ready: (title) =>
      title
        ? `Your report for the “${title}” checkup is ready. Open it with the link below.`
        : "Your checkup report is ready. Open it with the link below.",
    openReport: "Open the report",
    expires: (when) => `The link works until ${when}.`,
    attached: (fileName) => `The report is also attached to this email: ${fileName}.`,
    notAttached: "The report is too large to attach to this email: download it with the link.",
    reference: (id) => `Checkup ID: ${id}`,
  },
};

export const reportReady: EmailTemplate<Variables> = {
  subject: (variables, { locale }) => copy[locale].subject(variables.assessment_title),
  body: (variables, context) => {
    const t = copy[context.locale];
    return (
      <EmailLayout
        context={context}
        preview={t.ready(variables.assessment_title)}
        heading={t.heading}
        reference={t.reference(variables.assessment_id)}
        appUrl={variables.app_url}
      >
        <Greeting context={context} name={variables.user_name} />
        <Paragraph>{t.ready(variables.assessment_title)}</Paragraph>
        <ActionButton href={variables.report_url}>{t.openReport}</ActionButton>
        {variables.expires_at ? (
          <Paragraph>{t.expires(context.format.dateTime(variables.expires_at))}</Paragraph>
        ) : null}
        <Paragraph>
          {variables.attachment ? t.attached(variables.attachment.file_name) : t.notAttached}
        </Paragraph>
      </EmailLayout>
    );
  },
  // The signed link comes first in the body; the PDF rides along when it is small enough.
  attachments: (variables) => (variables.attachment ? [variables.attachment] : []),
};
