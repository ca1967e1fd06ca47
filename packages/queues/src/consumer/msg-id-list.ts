import { z } from "zod";
import { consumerLimits, msgIdSchema } from "./consumer-limits.ts";
import { consumerQueueNameSchema } from "./consumer-queues.ts";

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
