/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"payment_succeeded">;

const copy: Record<
  EmailLocale,
  {
    subject: (amount: string) => string;
    heading: string;
    lead: (amount: string) => string;
    amount: string;
    description: string;
    paidAt: string;
    receipt: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (amount) => `Оплата получена: ${amount}`,
    heading: "Оплата прошла успешно",
    lead: (amount) => `Мы получили ваш платёж на сумму ${amount}. Спасибо!`,
    amount: "Сумма",
    description: "Назначение",
    paidAt: "Дата оплаты",
    receipt: "Открыть чек",
    reference: (id) => `Номер платежа: ${id}`,
  },
  en: {
    subject: (amount) => `Payment received: ${amount}`,
    heading: "Payment successful",
    lead: (amount) => `We have received your payment of ${amount}. Thank you!`,
    amount: "Amount",
    description: "For",
    paidAt: "Paid on",
    receipt: "View the receipt",
    reference: (id) => `Payment ID: ${id}`,
  },
};

export const paymentSucceeded: EmailTemplate<Variables> = {
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
            [t.paidAt, variables.paid_at ? context.format.dateTime(variables.paid_at) : null],
          ]}
        />
        {variables.receipt_url ? <ActionButton href={variables.receipt_url}>{t.receipt}</ActionButton> : null}
      </EmailLayout>
    );
  },
};
