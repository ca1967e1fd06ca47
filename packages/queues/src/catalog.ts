import { emailLocales, emailTemplateNames } from "@balansity/emails/catalog";
import * as z from "zod";
import { boundedJsonObject, emailAddressSchema, queueLimits } from "./queue-limits.ts";

// The contract between the SQL producers (triggers, cron functions, queue_* helpers), the
// TypeScript producers and the worker. SQL-built messages are parsed with these schemas in tests.
// Field names are snake_case because SQL builds them with jsonb_build_object.

/** Version of the message format; bump it (and accept both) when a field changes meaning. */
export const MESSAGE_VERSION = 1;

const uuid = z.uuid({ error: "must be a UUID" });
const timestamp = z.iso.datetime({ offset: true, error: "must be an ISO 8601 timestamp with offset" });
const idempotencyKey = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(300, { error: "must be at most 300 characters" });

/** Fields every message carries. */
const envelope = {
  version: z.literal(MESSAGE_VERSION, { error: `must be ${MESSAGE_VERSION}` }),
  /** Side effects are keyed by it, so a retried or duplicated message acts once. */
  idempotency_key: idempotencyKey,
};

/** Email priorities: high is read before normal (see emailPriorityFilter). */
export const emailPriorities = { normal: 0, high: 1 } as const;

export const emailMessageSchema = z.object({
  ...envelope,
  to: emailAddressSchema,
  template: z.enum(emailTemplateNames, { error: `must be one of ${emailTemplateNames.join(", ")}` }),
  /** Overrides the template's own subject when set. */
  subject: z.string().max(300).nullish(),
  locale: z.enum(emailLocales, { error: `must be one of ${emailLocales.join(", ")}` }).default("ru"),
  /** IANA zone the dates are shown in. */
  timezone: z.string().min(1).max(64).default("Europe/Moscow"),
  variables: boundedJsonObject(queueLimits.maxPayloadBytes).default({}),
  priority: z.union([z.literal(emailPriorities.normal), z.literal(emailPriorities.high)], {
    error: "must be 0 (normal) or 1 (high)",
  }),
  user_id: uuid.nullish(),
});

export const reportTypes = ["pdf"] as const;

export const reportMessageSchema = z.object({
  ...envelope,
  assessment_id: uuid,
  user_id: uuid,
  report_type: z.enum(reportTypes, { error: `must be one of ${reportTypes.join(", ")}` }),
  requested_by: z.enum(["trigger", "user", "service"]).default("service"),
});

export const paymentActions = ["verify", "completed", "failed", "refund"] as const;

export const paymentMessageSchema = z.object({
  ...envelope,
  payment_id: uuid,
  action: z.enum(paymentActions, { error: `must be one of ${paymentActions.join(", ")}` }),
});

export const analyticsEventNames = [
  "checkup_completed",
  "appointment_booked",
  "appointment_cancelled",
  "payment_completed",
  "payment_failed",
  "report_requested",
  "report_generated",
  "email_sent",
] as const;
export type AnalyticsEventName = (typeof analyticsEventNames)[number];

export const analyticsMessageSchema = z.object({
  ...envelope,
  event: z.enum(analyticsEventNames, { error: `must be one of ${analyticsEventNames.join(", ")}` }),
  entity_id: z.string().min(1).max(200).nullish(),
  user_id: uuid.nullish(),
  occurred_at: timestamp,
  properties: boundedJsonObject(queueLimits.maxPayloadBytes).default({}),
});

/** Every queue the system uses, its message schema and its dead-letter queue. */
export const queueCatalog = {
  email_queue: { schema: emailMessageSchema, deadLetterQueue: "email_queue_dlq" },
  report_generation_queue: { schema: reportMessageSchema, deadLetterQueue: "report_generation_queue_dlq" },
  payment_processing_queue: { schema: paymentMessageSchema, deadLetterQueue: "payment_processing_queue_dlq" },
  analytics_queue: { schema: analyticsMessageSchema, deadLetterQueue: "analytics_queue_dlq" },
} as const;

export type QueueName = keyof typeof queueCatalog;
export const queueNames = Object.keys(queueCatalog) as readonly QueueName[];
export type DeadLetterQueueName = (typeof queueCatalog)[QueueName]["deadLetterQueue"];

/** The parsed message type of a queue. */
export type QueueMessage<Q extends QueueName> = z.output<(typeof queueCatalog)[Q]["schema"]>;
/** What a producer passes (defaults may be left out). */
export type QueueMessageInput<Q extends QueueName> = z.input<(typeof queueCatalog)[Q]["schema"]>;

/** What a dead-letter queue holds: the original message and why it failed. */
export const deadLetterSchema = z.object({
  queue: z.string(),
  original_msg_id: z.number().int(),
  message: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }),
  attempts: z.number().int().nonnegative(),
  enqueued_at: timestamp,
  failed_at: timestamp,
});
export type DeadLetter = z.output<typeof deadLetterSchema>;
