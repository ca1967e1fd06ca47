/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale } from "../template-catalog.ts";
import { type AppointmentCopy, type AppointmentVariables, appointmentEmail } from "./appointment-email.tsx";

// Sent about a day ahead. The words name the date rather than "tomorrow": the reminder may be
// read on another day, or in another time zone, than the one it was sent in.

const copy: Record<EmailLocale, AppointmentCopy> = {
  ru: {
    subject: (v, { format }) => `Напоминание: консультация ${format.dateTime(v.starts_at)}`,
    heading: "Напоминание о консультации",
    lead: (v, { format }) => `Напоминаем: ваша консультация состоится ${format.dateTime(v.starts_at)}.`,
  },
  en: {
    subject: (v, { format }) => `Reminder: your consultation on ${format.dateTime(v.starts_at)}`,
    heading: "Consultation reminder",
    lead: (v, { format }) =>
      `This is a reminder that your consultation is on ${format.dateTime(v.starts_at)}.`,
  },
};

export const appointmentReminder24h: EmailTemplate<AppointmentVariables> = {
  subject: (variables, context) => copy[context.locale].subject(variables, context),
  body: (variables, context) => appointmentEmail(copy[context.locale], variables, context),
};
