/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"appointment_cancelled">;

const copy: Record<
  EmailLocale,
  {
    subject: (when: string) => string;
    heading: string;
    lead: (when: string) => string;
    refund: string;
    when: string;
    consultant: string;
    rebook: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (when) => `Запись отменена: ${when}`,
    heading: "Консультация отменена",
    lead: (when) => `Ваша запись на ${when} отменена.`,
    refund: "Оплата за консультацию будет возвращена: мы пришлём отдельное письмо, когда возврат пройдёт.",
    when: "Когда",
    consultant: "Консультант",
    rebook: "Записаться снова",
    reference: (id) => `Номер записи: ${id}`,
  },
  en: {
    subject: (when) => `Booking cancelled: ${when}`,
    heading: "Your consultation is cancelled",
    lead: (when) => `Your booking for ${when} is cancelled.`,
    refund: "Your payment for it will be refunded: we will email you again once the refund goes through.",
    when: "When",
    consultant: "Consultant",
    rebook: "Book again",
    reference: (id) => `Booking ID: ${id}`,
  },
};

export const appointmentCancelled: EmailTemplate<Variables> = {
  subject: (variables, { locale, format }) => copy[locale].subject(format.dateTime(variables.starts_at)),
  body: (variables, context) => {
    const t = copy[context.locale];
    const when = context.format.dateTime(variables.starts_at);
    return (
      <EmailLayout
        context={context}
        preview={t.lead(when)}
        heading={t.heading}
        reference={t.reference(variables.appointment_id)}
        appUrl={variables.app_url}
      >
        <Greeting context={context} name={variables.user_name} />
        <Paragraph>{t.lead(when)}</Paragraph>
        <Details
          rows={[
            [t.when, context.format.dateTimeRange(variables.starts_at, variables.ends_at)],
            [t.consultant, variables.consultant_name],
          ]}
        />
        {variables.refund_requested ? <Paragraph>{t.refund}</Paragraph> : null}
        {variables.book_url ? <ActionButton href={variables.book_url}>{t.rebook}</ActionButton> : null}
      </EmailLayout>
    );
  },
};
