/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale } from "../template-catalog.ts";
import { type AppointmentCopy, type AppointmentVariables, appointmentEmail } from "./appointment-email.tsx";

// Sent about an hour ahead: the start time is what matters, so it leads the subject.

const copy: Record<EmailLocale, AppointmentCopy> = {
  ru: {
    subject: (v, { format }) => `Консультация скоро начнётся: в ${format.time(v.starts_at)}`,
    heading: "Консультация скоро начнётся",
    lead: (v, { format }) =>
      `Ваша консультация начнётся в ${format.time(v.starts_at)}. Подготовьте вопросы, которые хотите обсудить.`,
  },
  en: {
    subject: (v, { format }) => `Your consultation starts soon, at ${format.time(v.starts_at)}`,
    heading: "Your consultation starts soon",
    lead: (v, { format }) =>
      `Your consultation starts at ${format.time(v.starts_at)}. Have your questions ready.`,
  },
};

export const appointmentReminder1h: EmailTemplate<AppointmentVariables> = {
  subject: (variables, context) => copy[context.locale].subject(variables, context),
  body: (variables, context) => appointmentEmail(copy[context.locale], variables, context),
};
