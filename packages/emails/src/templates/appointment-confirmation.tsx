/** @jsxRuntime automatic @jsxImportSource react */
import type { EmailTemplate } from "../email-template.ts";
import type { EmailLocale } from "../template-catalog.ts";
import { type AppointmentCopy, type AppointmentVariables, appointmentEmail } from "./appointment-email.tsx";

const copy: Record<EmailLocale, AppointmentCopy> = {
  ru: {
    subject: (v, { format }) => `Консультация подтверждена: ${format.dateTime(v.starts_at)}`,
    heading: "Консультация подтверждена",
    lead: () => "Ваша запись на консультацию подтверждена. Ждём вас!",
  },
  en: {
    subject: (v, { format }) => `Your consultation is confirmed: ${format.dateTime(v.starts_at)}`,
    heading: "Your consultation is confirmed",
    lead: () => "Your consultation booking is confirmed. We look forward to seeing you.",
  },
};

export const appointmentConfirmation: EmailTemplate<AppointmentVariables> = {
  subject: (variables, context) => copy[context.locale].subject(variables, context),
  body: (variables, context) => appointmentEmail(copy[context.locale], variables, context),
};
