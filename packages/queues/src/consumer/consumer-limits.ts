import * as z from "zod";

/** The ranges the consumer primitives accept; a value outside is refused before any query. */
export const consumerLimits = Object.freeze({
  /** Messages one read may return (each stays locked for the statement). */
  maxReadQuantity: 1000,
  /** Longest visibility timeout: a week. A longer one hides a failed message for too long. */
  maxVisibilityTimeoutSeconds: 7 * 24 * 60 * 60,
  /** Longest `readWithPoll` wait: it holds a connection the whole time. */
  maxPollSeconds: 60,
  /** Messages one archive or delete call may name. */
  maxBatchSize: 10_000,
});

export const visibilityTimeoutSchema = z
  .int({ error: "must be a whole number of seconds" })
  .min(0, { error: "must be 0 or more seconds" })
  .max(consumerLimits.maxVisibilityTimeoutSeconds, {
    error: `must be at most ${consumerLimits.maxVisibilityTimeoutSeconds} seconds (a week)`,
  });

export const readQuantitySchema = z
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(consumerLimits.maxReadQuantity, { error: `must be at most ${consumerLimits.maxReadQuantity}` });

/** `conditional`: read only messages containing this JSON (`message @> conditional`). */
export const conditionalSchema = z.record(z.string(), z.unknown(), { error: "must be a JSON object" });

/** A msg_id: a positive integer, as number or bigint. */
export const msgIdSchema = z.union(
  [z.int().positive(), z.bigint().positive().max(9_223_372_036_854_775_807n)],
  { error: "must be a positive integer msg_id" },
);
