/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"payment_refunded">;

const copy: Record<
  EmailLocale,
  {
    subject: (amount: string) => string;
    heading: string;
    lead: (amount: string) => string;
    timing: string;
    amount: string;
    description: string;
    refundedAt: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (amount) => `Возврат оформлен: ${amount}`,
    heading: "Деньги возвращены",
    lead: (amount) => `Мы вернули ваш платёж на сумму ${amount}.`,
    timing: "Банк обычно зачисляет возврат на карту в течение нескольких рабочих дней.",
    amount: "Сумма",
    description: "Назначение",
    refundedAt: "Дата возврата",
    reference: (id) => `Номер платежа: ${id}`,
  },
  en: {
    subject: (amount) => `Refund issued: ${amount}`,
    heading: "Your money is on its way back",
    lead: (amount) => `We have refunded your payment of ${amount}.`,
    timing: "Banks usually credit a refund to the card within a few business days.",
    amount: "Amount",
    description: "For",
    refundedAt: "Refunded on",
    reference: (id) => `Payment ID: ${id}`,
  },
};

export const paymentRefunded: EmailTemplate<Variables> = {
  subject: (variables, { locale, format }) =>
    copy[locale].subject(format.money(variables.amount, variables.currency)),
  body: (variables, context) => {
    const t = copy[context.locale];
    const amount = context.format.money(variables.amount, variables.currency);
    return (
      <EmailLayout
        context={context}
        preview={t.lead(amount)}
        heading={t.heading}
        reference={t.reference(variables.payment_id)}
        appUrl={variables.app_url}
      >
        <Greeting context={context} name={variables.user_name} />
        <Paragraph>{t.lead(amount)}</Paragraph>
        <Details
          rows={[
            [t.amount, amount],
            [t.description, variables.description],
            [t.refundedAt, variables.refunded_at ? context.format.dateTime(variables.refunded_at) : null],
          ]}
        />
        <Paragraph>{t.timing}</Paragraph>
      </EmailLayout>
    );
  },
};
