import type { EmailTemplateName } from "@balansity/emails/catalog";
import { z } from "zod";
import {
  type AnalyticsEventName,
  analyticsEventNames,
  emailPriorities,
  MESSAGE_VERSION,
  paymentActions,
  type QueueMessage,
  type QueueName,
  reportTypes,
} from "./catalog.ts";
import { boundedJsonObject, emailAddressSchema, queueLimits } from "./queue-limits.ts";

// Version 0 of the catalog: the message shapes of the hand-applied seed-era helpers
// (queue_email_task(to, subject, template, variables, priority), queue_report_generation,
// queue_payment_processing), their triggers and their frontend. They carry no `version` and no
// `idempotency_key`, and an email's `variables` are thinner than our templates need. A consumer that
// knows this version parses such a message here, completes it (the worker reads what is missing from
// the database) and handles the result as a version-1 message keyed by `legacyIdempotencyKey`.

const uuid = z.uuid({ error: "must be a UUID" });
const looseTimestamp = z.iso.datetime({ offset: true, error: "must be an ISO 8601 timestamp with offset" });

export const legacyEmailMessageSchema = z.object({
  to: emailAddressSchema,
  subject: z.string().max(300).nullish(),
  /** The seed-era name; {@link legacyEmailTemplates} maps it to ours. */
  template: z.string({ error: "must be a string" }).min(1).max(100),
  variables: boundedJsonObject(queueLimits.maxPayloadBytes).nullish(),
  /** Any integer was allowed then. */
  priority: z.number({ error: "must be a whole number" }).int({ error: "must be a whole number" }).nullish(),
});

export const legacyReportMessageSchema = z.object({
  assessment_id: uuid,
  user_id: uuid,
  report_type: z.enum(reportTypes, { error: `must be one of ${reportTypes.join(", ")}` }).default("pdf"),
});

export const legacyPaymentMessageSchema = z.object({
  payment_id: uuid,
  action: z.enum(paymentActions, { error: `must be one of ${paymentActions.join(", ")}` }),
});

/** An event as the seed-era triggers wrote it: `event` or `event_type`, ids and data beside it. */
export const legacyAnalyticsMessageSchema = z
  .object({
    event: z.string().min(1).max(100).optional(),
    event_type: z.string().min(1).max(100).optional(),
    user_id: uuid.nullish(),
    entity_id: z.string().min(1).max(200).nullish(),
    assessment_id: uuid.nullish(),
    appointment_id: uuid.nullish(),
    payment_id: uuid.nullish(),
    occurred_at: looseTimestamp.nullish(),
    timestamp: looseTimestamp.nullish(),
    created_at: looseTimestamp.nullish(),
    properties: boundedJsonObject(queueLimits.maxPayloadBytes).nullish(),
    data: boundedJsonObject(queueLimits.maxPayloadBytes).nullish(),
  })
  .refine((message) => message.event !== undefined || message.event_type !== undefined, {
    error: "must have event or event_type",
    path: ["event"],
  });

/** The seed-era shape of each queue. */
export const legacyQueueCatalog = {
  email_queue: legacyEmailMessageSchema,
  report_generation_queue: legacyReportMessageSchema,
  payment_processing_queue: legacyPaymentMessageSchema,
  analytics_queue: legacyAnalyticsMessageSchema,
} as const;

export type LegacyQueueMessage<Q extends QueueName> = z.output<(typeof legacyQueueCatalog)[Q]>;

/**
 * The seed-era email template names and ours. `appointment_reminder` is either reminder, told apart
 * by the message (see the worker's completion); every other name is one of our templates.
 */
export const legacyEmailTemplates: Readonly<Record<string, EmailTemplateName | "appointment_reminder">> =
  Object.freeze({
    checkup_completed: "checkup_completed",
    report_ready: "report_ready",
    appointment_confirmation: "appointment_confirmation",
    appointment_confirmed: "appointment_confirmation",
    appointment_created: "appointment_confirmation",
    new_appointment: "appointment_confirmation",
    appointment_reminder: "appointment_reminder",
    appointment_reminder_24h: "appointment_reminder_24h",
    appointment_reminder_1h: "appointment_reminder_1h",
    payment_confirmation: "payment_succeeded",
    payment_completed: "payment_succeeded",
    payment_success: "payment_succeeded",
    payment_succeeded: "payment_succeeded",
    payment_failed: "payment_failed",
    payment_error: "payment_failed",
  });

/** The seed-era analytics event names and ours (our own names map to themselves). */
export const legacyAnalyticsEvents: Readonly<Record<string, AnalyticsEventName>> = Object.freeze({
  ...Object.fromEntries(analyticsEventNames.map((name) => [name, name])),
  assessment_completed: "checkup_completed",
  appointment_created: "appointment_booked",
  new_appointment: "appointment_booked",
  appointment_canceled: "appointment_cancelled",
  payment_succeeded: "payment_completed",
  payment_success: "payment_completed",
  report_ready: "report_generated",
});

/** True for a message of the seed-era shapes: a JSON object without `version`. */
export function isLegacyMessage(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && !Object.hasOwn(raw, "version");
}

/**
 * The idempotency key of a seed-era message: its queue and msg_id (a msg_id is never reused within
 * a queue), so a redelivery acts once.
 *
 * ### Examples
 * ```ts
 * legacyIdempotencyKey("email_queue", 42); // "legacy:email_queue:42"
 * ```
 */
export function legacyIdempotencyKey(queue: QueueName, msgId: number | string): string {
  return `legacy:${queue}:${msgId}`;
}

/** Our priority for a seed-era one: anything above 0 is high, the rest normal. */
export function legacyEmailPriority(priority: number | null | undefined): 0 | 1 {
  return (priority ?? 0) > 0 ? emailPriorities.high : emailPriorities.normal;
}

/** A seed-era report job as a version-1 one (nothing to complete: the processor loads the rest). */
export function upgradeLegacyReport(
  message: LegacyQueueMessage<"report_generation_queue">,
  msgId: number | string,
): QueueMessage<"report_generation_queue"> {
  return {
    version: MESSAGE_VERSION,
    idempotency_key: legacyIdempotencyKey("report_generation_queue", msgId),
    assessment_id: message.assessment_id,
    user_id: message.user_id,
    report_type: message.report_type,
    requested_by: "trigger",
  };
}

/** A seed-era payment job as a version-1 one. */
export function upgradeLegacyPayment(
  message: LegacyQueueMessage<"payment_processing_queue">,
  msgId: number | string,
): QueueMessage<"payment_processing_queue"> {
  return {
    version: MESSAGE_VERSION,
    idempotency_key: legacyIdempotencyKey("payment_processing_queue", msgId),
    payment_id: message.payment_id,
    action: message.action,
  };
}

/** Why a seed-era message cannot become a version-1 one: `field` names what is missing or unknown. */
export class LegacyMessageError extends Error {
  readonly code: string;
  readonly field: string;
  constructor(code: string, field: string, message: string) {
    super(message);
    this.name = "LegacyMessageError";
    this.code = code;
    this.field = field;
  }
}

/**
 * A seed-era event as a version-1 one: the name mapped by {@link legacyAnalyticsEvents}, the entity
 * from `entity_id` or the first of `assessment_id`, `appointment_id`, `payment_id`, the time from
 * `occurred_at`, `timestamp` or `created_at` (else when it was queued), `properties` or `data` kept.
 * Throws {@link LegacyMessageError} for an event name we do not count.
 */
export function upgradeLegacyEvent(
  message: LegacyQueueMessage<"analytics_queue">,
  msgId: number | string,
  enqueuedAt: Date,
): QueueMessage<"analytics_queue"> {
  const name = (message.event ?? message.event_type) as string;
  const event = Object.hasOwn(legacyAnalyticsEvents, name) ? legacyAnalyticsEvents[name] : undefined;
  if (event === undefined) {
    throw new LegacyMessageError(
      "legacy_unknown_event",
      "event",
      `analytics_queue message: event "${name}" is unknown (expected one of ${Object.keys(legacyAnalyticsEvents).join(", ")})`,
    );
  }
  return {
    version: MESSAGE_VERSION,
    idempotency_key: legacyIdempotencyKey("analytics_queue", msgId),
    event,
    entity_id:
      message.entity_id ?? message.assessment_id ?? message.appointment_id ?? message.payment_id ?? null,
    user_id: message.user_id ?? null,
    occurred_at: message.occurred_at ?? message.timestamp ?? message.created_at ?? enqueuedAt.toISOString(),
    properties: message.properties ?? message.data ?? {},
  };
}
