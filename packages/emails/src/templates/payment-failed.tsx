/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, Details, EmailLayout, Greeting, Paragraph } from "./email-parts.tsx";

type Variables = ParsedEmailTemplateVariables<"payment_failed">;

const copy: Record<
  EmailLocale,
  {
    subject: (amount: string) => string;
    heading: string;
    lead: (amount: string) => string;
    advice: string;
    amount: string;
    description: string;
    reason: string;
    retry: string;
    reference: (id: string) => string;
  }
> = {
  ru: {
    subject: (amount) => `Оплата не прошла: ${amount}`,
    heading: "Не удалось провести оплату",
    lead: (amount) => `Ваш платёж на сумму ${amount} не прошёл.`,
    advice: "Попробуйте оплатить ещё раз или выберите другой способ оплаты.",
    amount: "Сумма",
    description: "Назначение",
    reason: "Причина",
    retry: "Оплатить ещё раз",
    reference: (id) => `Номер платежа: ${id}`,
  },
  en: {
    subject: (amount) => `Payment failed: ${amount}`,
    heading: "Your payment did not go through",
    lead: (amount) => `Your payment of ${amount} did not go through.`,
    advice: "Please try again or choose another payment method.",
    amount: "Amount",
    description: "For",
    reason: "Reason",
    retry: "Try again",
    reference: (id) => `Payment ID: ${id}`,
  },
};

export const paymentFailed: EmailTemplate<Variables> = {
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
            [t.reason, variables.failure_reason],
          ]}
        />
        <Paragraph>{t.advice}</Paragraph>
        {variables.retry_url ? <ActionButton href={variables.retry_url}>{t.retry}</ActionButton> : null}
      </EmailLayout>
    );
  },
};
