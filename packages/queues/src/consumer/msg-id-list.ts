import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import { consumerLimits, msgIdSchema } from "./consumer-limits.ts";
import { consumerQueueNameSchema, consumerQueueNames } from "./consumer-queues.ts";

/** One msg_id or a list of them. */
export type MsgIds = bigint | number | readonly (bigint | number)[];

/** Arguments of the batch primitives: a queue and its msg_ids, as text for `$2::bigint[]`. */
export const batchArguments = z.object({
  queue: consumerQueueNameSchema,
  ids: z
    .union([msgIdSchema, z.array(msgIdSchema).max(consumerLimits.maxBatchSize)], {
      error: `must be a positive integer msg_id or a list of at most ${consumerLimits.maxBatchSize} of them`,
    })
    .transform((ids) => (Array.isArray(ids) ? ids : [ids]).map((id) => id.toString())),
});

/**
 * The msg_ids as text for `$2::bigint[]` when they are already a list of safe positive integers (what
 * a consumer passes thousands of times a second), else undefined: let the schema check and explain.
 */
export function plainMsgIds(ids: MsgIds): string[] | undefined {
  if (!Array.isArray(ids) || ids.length > consumerLimits.maxBatchSize) return undefined;
  const text: string[] = new Array(ids.length);
  for (let index = 0; index < ids.length; index += 1) {
    const id = ids[index];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return undefined;
    text[index] = String(id);
  }
  return text;
}

/**
 * The msg_ids of a batch primitive, as text for `$2::bigint[]`: a plain list of safe integers for a
 * catalog queue goes through without the schema (a consumer's hot path); anything else is checked, and
 * refused with an InvalidArgumentError naming the bad id or queue.
 */
export function msgIdsArgument(operation: string, queue: string, ids: MsgIds): string[] {
  const plain = consumerQueueNames.includes(queue as never) ? plainMsgIds(ids) : undefined;
  return plain ?? checkArguments(operation, batchArguments, { queue, ids }).ids;
}
