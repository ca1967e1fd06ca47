import type { EmailTemplateName } from "@balansity/emails/catalog";

/**
 * Where each email template stands inside the SMTP send budget (the one place that says so): tier 0
 * goes first, then 1, then 2. Transactional mail the user waits for comes first; mail that can wait an
 * hour without harm comes last. A message with `priority: 1` is tier 0 whatever its template.
 *
 * | tier | templates |
 * | ---- | --------- |
 * | 0    | appointment_confirmation, appointment_cancelled, payment_succeeded, payment_failed, payment_refunded, appointment_reminder_1h, operator_alert |
 * | 1    | checkup_completed, report_ready |
 * | 2    | appointment_reminder_24h |
 */
export const emailSendTiers = {
  appointment_confirmation: 0,
  appointment_cancelled: 0,
  payment_succeeded: 0,
  payment_failed: 0,
  payment_refunded: 0,
  appointment_reminder_1h: 0,
  operator_alert: 0,
  checkup_completed: 1,
  report_ready: 1,
  appointment_reminder_24h: 2,
} as const satisfies Readonly<Record<EmailTemplateName, 0 | 1 | 2>>;

export type EmailSendTier = (typeof emailSendTiers)[EmailTemplateName];

/** The tiers by number, for what shows them (the console, `balansity email budget`). */
export const emailSendTierNames = ["transactional", "checkups and reports", "24-hour reminders"] as const;
