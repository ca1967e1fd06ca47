import * as z from "zod";

/**
 * The bounds every producer path enforces, the same numbers as the SQL helpers and check
 * constraints of supabase/migrations/039_security_limits.sql (a test compares them).
 */
export const queueLimits = Object.freeze({
  /** A whole queued message, as JSON text (pgmq_send's `message`; a check on every queue table). */
  maxMessageBytes: 262_144,
  /** `variables` of an email and `properties` of an analytics event, as JSON text. */
  maxPayloadBytes: 65_536,
  /** pgmq_send's `delay`: a week. */
  maxDelaySeconds: 604_800,
  /** pgmq_read's `vt`: a week, as the consumer primitives allow. */
  maxVisibilityTimeoutSeconds: 604_800,
  /** RFC 5321: an address longer than this cannot be used in RCPT TO. */
  maxEmailAddressLength: 254,
  /** RFC 5321: the part before the `@`. */
  maxEmailLocalPartLength: 64,
});

/**
 * The per-user hourly limits 039 installs in automation.settings (`user_hourly_limit_<kind>`): work
 * one user's own writes may queue per UTC clock hour. Operators change the settings rows; these are
 * the defaults.
 */
export const userHourlyLimitDefaults = Object.freeze({
  checkup_emails: 20,
  confirmation_emails: 20,
  high_priority_emails: 5,
  report_jobs: 20,
  events: 100,
});

/**
 * The per-user daily limits (UTC day) beside the hourly ones: settings user_daily_limit_<kind> of
 * 050_masking_and_daily_limits.sql. A real person does not reach them; a flood does.
 */
export const userDailyLimitDefaults = Object.freeze({
  checkup_emails: 10,
  report_jobs: 10,
  events: 300,
});

const encoder = new TextEncoder();

/** Bytes of `value` as UTF-8 JSON (PostgreSQL's jsonb text adds a space after `:` and `,`). */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? "").length;
}

/** A JSON object of at most `maxBytes` bytes. */
export function boundedJsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).refine((value) => jsonByteLength(value) <= maxBytes, {
    error: `must be at most ${maxBytes} bytes as JSON`,
  });
}

/** An email address the email queue accepts: zod's email rules and RFC 5321's lengths. */
export const emailAddressSchema = z
  .email({ error: "must be an email address" })
  .max(queueLimits.maxEmailAddressLength, {
    error: `must be at most ${queueLimits.maxEmailAddressLength} characters`,
  })
  .refine((address) => (address.split("@")[0] ?? "").length <= queueLimits.maxEmailLocalPartLength, {
    error: `must have at most ${queueLimits.maxEmailLocalPartLength} characters before the @`,
  });
