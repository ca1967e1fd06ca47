import { z } from "zod";

// The building blocks of every template's variable schema. Each error message reads after the
// variable's name ("variable \"amount\" must be a number"), so keep them phrased that way.
// Optional variables also accept `null`: SQL producers build variables with
// `jsonb_build_object(...)`, which writes a missing column as null.

/** Non-empty text (surrounding whitespace trimmed), at most `max` characters. */
export function requiredText(max: number) {
  return z
    .string({ error: "must be a string" })
    .trim()
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` });
}

/** Text that may be absent, null or empty (the template then leaves it out). */
export function optionalText(max: number) {
  return z
    .string({ error: "must be a string" })
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .nullish();
}

/** An identifier (uuid or a provider's id) as text. */
export const entityId = requiredText(200);

/** An instant with an explicit offset, as Postgres writes `timestamptz` to JSON. */
export const timestamp = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 timestamp with a time zone offset, e.g. 2026-11-25T12:00:00Z",
});

/** Only http and https: a `javascript:` or `data:` link must never reach an email. */
export const webUrl = z.url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" });

/** An amount in major units (rubles, not kopecks). */
export const moneyAmount = z
  .number({ error: "must be a number (major units, e.g. 1500.5)" })
  .nonnegative({ error: "must not be negative" });

/** An ISO 4217 currency code. */
export const currencyCode = z
  .string({ error: "must be a string" })
  .regex(/^[A-Z]{3}$/, { error: "must be an upper-case ISO 4217 currency code, e.g. RUB" });

/** Shown in the greeting when present: "Здравствуйте, Анна!". */
export const userName = optionalText(200);
