import * as z from "zod";
import { characterCount, textLimits } from "./text-limits.ts";

// The building blocks of every template's variable schema. Each error message reads after the
// variable's name ("variable \"amount\" must be a number"), so keep them phrased that way.
// Optional variables also accept `null`: SQL producers build variables with
// `jsonb_build_object(...)`, which writes a missing column as null.

// Lengths are counted in code points, as the database's check constraints count them (zod's
// `.max()` counts UTF-16 units, which would refuse 200 emoji the database accepts).
function atMost(max: number) {
  return z
    .string({ error: "must be a string" })
    .trim()
    .refine((text) => characterCount(text) <= max, { error: `must be at most ${max} characters` });
}

/** Non-empty text (surrounding whitespace trimmed), at most `max` characters. */
export function requiredText(max: number) {
  return atMost(max).refine((text) => text.length > 0, { error: "must not be empty" });
}

/** Text that may be absent, null or empty (the template then leaves it out). */
export function optionalText(max: number) {
  return atMost(max).nullish();
}

/** An identifier (uuid or a provider's id) as text. */
export const entityId = requiredText(textLimits.entityId);

/** An instant with an explicit offset, as Postgres writes `timestamptz` to JSON. */
export const timestamp = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 timestamp with a time zone offset, e.g. 2026-11-25T12:00:00Z",
});

/** Only http and https: a `javascript:` or `data:` link must never reach an email. */
export const webUrl = z
  .url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" })
  .refine((url) => characterCount(url) <= textLimits.url, {
    error: `must be at most ${textLimits.url} characters`,
  });

/** An amount in major units (rubles, not kopecks). */
export const moneyAmount = z
  .number({ error: "must be a number (major units, e.g. 1500.5)" })
  .nonnegative({ error: "must not be negative" });

/** An ISO 4217 currency code. */
export const currencyCode = z
  .string({ error: "must be a string" })
  .regex(/^[A-Z]{3}$/, { error: "must be an upper-case ISO 4217 currency code, e.g. RUB" });

/** Shown in the greeting when present: "Здравствуйте, Анна!". */
export const userName = optionalText(textLimits.userName);
