import * as z from "zod";
import { emailAttachmentSchema } from "./email-attachment.ts";
import { textLimits } from "./text-limits.ts";
import {
  currencyCode,
  entityId,
  moneyAmount,
  optionalText,
  requiredText,
  timestamp,
  userName,
  webUrl,
} from "./variable-fields.ts";

/** The languages every template is written in. Russian is the default. */
export const emailLocales = ["ru", "en"] as const;
export type EmailLocale = (typeof emailLocales)[number];

/** Every template `renderEmail` knows, by the name producers put in an `email_queue` message. */
export const emailTemplateNames = [
  "checkup_completed",
  "report_ready",
  "appointment_confirmation",
  "appointment_reminder_24h",
  "appointment_reminder_1h",
  "payment_succeeded",
  "payment_failed",
  "payment_refunded",
  "appointment_cancelled",
  "operator_alert",
] as const;
export type EmailTemplateName = (typeof emailTemplateNames)[number];

/** Variables every template accepts. */
const common = {
  /** The recipient's name for the greeting; "Здравствуйте!" without it. */
  user_name: userName,
  /** A link to the Balansity app, shown in the footer. */
  app_url: webUrl.nullish(),
};

const checkupCompleted = z.object({
  ...common,
  assessment_id: entityId,
  assessment_title: optionalText(textLimits.assessmentTitle),
  completed_at: timestamp.nullish(),
  results_url: webUrl.nullish(),
});

const reportReady = z.object({
  ...common,
  assessment_id: entityId,
  assessment_title: optionalText(textLimits.assessmentTitle),
  report_url: webUrl,
  /** When a signed report link stops working. */
  expires_at: timestamp.nullish(),
  /** The PDF itself, attached; absent when it is larger than the sender's attachment limit. */
  attachment: emailAttachmentSchema.nullish(),
});

/** One schema for the confirmation and both reminders: they talk about the same appointment. */
const appointment = z
  .object({
    ...common,
    appointment_id: entityId,
    starts_at: timestamp,
    ends_at: timestamp.nullish(),
    consultant_name: optionalText(textLimits.consultantName),
    /** The video call link. */
    meeting_url: webUrl.nullish(),
    /** Where the user reschedules or cancels. */
    manage_url: webUrl.nullish(),
  })
  .superRefine((value, context) => {
    if (value.ends_at && Date.parse(value.ends_at) <= Date.parse(value.starts_at)) {
      context.addIssue({ code: "custom", path: ["ends_at"], message: "must be later than starts_at" });
    }
  });

const payment = {
  ...common,
  payment_id: entityId,
  amount: moneyAmount,
  currency: currencyCode,
  /** What was paid for, e.g. "Консультация 25 ноября". */
  description: optionalText(textLimits.paymentDescription),
};

const paymentSucceeded = z.object({
  ...payment,
  paid_at: timestamp.nullish(),
  receipt_url: webUrl.nullish(),
});

const paymentFailed = z.object({
  ...payment,
  /** The provider's explanation, shown as is. */
  failure_reason: optionalText(textLimits.failureReason),
  retry_url: webUrl.nullish(),
});

const paymentRefunded = z.object({
  ...payment,
  refunded_at: timestamp.nullish(),
});

const appointmentCancelled = z
  .object({
    ...common,
    appointment_id: entityId,
    starts_at: timestamp,
    ends_at: timestamp.nullish(),
    consultant_name: optionalText(textLimits.consultantName),
    /** True when the appointment was paid and a refund has been requested (its own email follows). */
    refund_requested: z.boolean().default(false),
    /** Where the user books another appointment. */
    book_url: webUrl.nullish(),
  })
  .superRefine((value, context) => {
    if (value.ends_at && Date.parse(value.ends_at) <= Date.parse(value.starts_at)) {
      context.addIssue({ code: "custom", path: ["ends_at"], message: "must be later than starts_at" });
    }
  });

/** To the operators, from the check-alerts cron job (migration 052): a condition fired or resolved. */
const operatorAlert = z.object({
  ...common,
  /** The condition's key: dead_letters:<queue>_dlq, oldest_message:<queue> or no_worker. */
  condition: requiredText(200),
  status: z.enum(["firing", "resolved"], { error: "must be firing or resolved" }),
  /** One line saying what is wrong, in English (written by the database). */
  summary: requiredText(1000),
  /** When the condition first fired (this time). */
  since: timestamp,
  checked_at: timestamp,
});

/**
 * The variables each template accepts, as zod schemas. `renderEmail` validates with them; a
 * producer can validate with them before it enqueues a message.
 *
 * ### Examples
 *
 * ```ts
 * const result = emailTemplateVariableSchemas.report_ready.safeParse(message.variables);
 * if (!result.success) console.log(result.error.issues);
 * ```
 */
export const emailTemplateVariableSchemas = Object.freeze({
  checkup_completed: checkupCompleted,
  report_ready: reportReady,
  appointment_confirmation: appointment,
  appointment_reminder_24h: appointment,
  appointment_reminder_1h: appointment,
  payment_succeeded: paymentSucceeded,
  payment_failed: paymentFailed,
  payment_refunded: paymentRefunded,
  appointment_cancelled: appointmentCancelled,
  operator_alert: operatorAlert,
} as const satisfies Record<EmailTemplateName, z.ZodType>);

/** What a caller passes as `variables` for template `T`. */
export type EmailTemplateVariables<T extends EmailTemplateName> = z.input<
  (typeof emailTemplateVariableSchemas)[T]
>;

/** The variables after validation (text trimmed): what a template component receives. */
export type ParsedEmailTemplateVariables<T extends EmailTemplateName> = z.output<
  (typeof emailTemplateVariableSchemas)[T]
>;

/** Narrows a string (from a queue message, say) to a template name. */
export function isEmailTemplateName(name: string): name is EmailTemplateName {
  return (emailTemplateNames as readonly string[]).includes(name);
}

/** Narrows a string to a supported locale. */
export function isEmailLocale(locale: string): locale is EmailLocale {
  return (emailLocales as readonly string[]).includes(locale);
}

export { characterCount, textLimits } from "./text-limits.ts";
