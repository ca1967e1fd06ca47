/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"checkup_completed">;
type Title = string | null | undefined;

const copy: Record<
  EmailLocale,
  {
    subject: (title: Title) => string;
    heading: string;
    thanks: (title: Title) => string;
    next: string;
    completedAt: string;
    openResults: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (title) => (title ? `Чекап «${title}» завершён` : "Ваш чекап завершён"),
    heading: "Чекап завершён",
    thanks: (title) => (title ? `Спасибо, что прошли чекап «${title}».` : "Спасибо, что прошли чекап."),
    next: "Мы готовим подробный отчёт и пришлём его отдельным письмом, как только он будет готов.",
    completedAt: "Завершён",
    openResults: "Посмотреть результаты",
    reference: (id) => `Номер чекапа: ${id}`,
  },
  en: {
    subject: (title) => (title ? `Your “${title}” checkup is complete` : "Your checkup is complete"),
    heading: "Checkup complete",
    thanks: (title) =>
      title ? `Thank you for completing the “${title}” checkup.` : "Thank you for completing your checkup.",
    next: "We are preparing your detailed report and will email it to you as soon as it is ready.",
    completedAt: "Completed",
    openResults: "View your results",
    reference: (id) => `Checkup ID: ${id}`,
  },
};

export const checkupCompleted: EmailTemplate<Variables> = {
  subject: (variables, { locale }) => copy[locale].subject(variables.assessment_title),
  body: (variables, context) => {
    const t = copy[context.locale];
    return (
      <EmailLayout
        context={context}
        preview={t.next}
        heading={t.heading}
        reference={t.reference(variables.assessment_id)}
        appUrl={variables.app_url}
      >
        <Greeting context={context} name={variables.user_name} />
        <Paragraph>{t.thanks(variables.assessment_title)}</Paragraph>
        <Details
          rows={[
            [t.completedAt, variables.completed_at ? context.format.dateTime(variables.completed_at) : null],
          ]}
        />
        <Paragraph>{t.next}</Paragraph>
        {variables.results_url ? (
          <ActionButton href={variables.results_url}>{t.openResults}</ActionButton>
        ) : null}
      </EmailLayout>
    );
  },
};
