import type { EmailTemplate } from "./email-template.ts";
import type { EmailTemplateName, ParsedEmailTemplateVariables } from "./template-catalog.ts";
import { appointmentCancelled } from "./templates/appointment-cancelled.tsx";
import { appointmentConfirmation } from "./templates/appointment-confirmation.tsx";
import { appointmentReminder1h } from "./templates/appointment-reminder-1h.tsx";
import { appointmentReminder24h } from "./templates/appointment-reminder-24h.tsx";
import { checkupCompleted } from "./templates/checkup-completed.tsx";
import { operatorAlert } from "./templates/operator-alert.tsx";
import { paymentFailed } from "./templates/payment-failed.tsx";
import { paymentRefunded } from "./templates/payment-refunded.tsx";
import { paymentSucceeded } from "./templates/payment-succeeded.tsx";
import { reportReady } from "./templates/report-ready.tsx";

/** Each catalog name to the template that renders it; the type makes a missing one a compile error. */
export const emailTemplates: {
  readonly [K in EmailTemplateName]: EmailTemplate<ParsedEmailTemplateVariables<K>>;
} = {
  checkup_completed: checkupCompleted,
  report_ready: reportReady,
  appointment_confirmation: appointmentConfirmation,
  appointment_reminder_24h: appointmentReminder24h,
  appointment_reminder_1h: appointmentReminder1h,
  payment_succeeded: paymentSucceeded,
  payment_failed: paymentFailed,
  payment_refunded: paymentRefunded,
  appointment_cancelled: appointmentCancelled,
  operator_alert: operatorAlert,
};
