import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import {
  conditionalSchema,
  consumerLimits,
  readQuantitySchema,
  visibilityTimeoutSchema,
} from "./consumer-limits.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { messageRecordColumns, type QueueRecord, toQueueRecord } from "./queue-record.ts";
import type { ReadOptions } from "./read.ts";

export interface ReadWithPollOptions extends ReadOptions {
  /** How long to wait for a message when none is visible (default 5, at most 60). */
  readonly maxPollSeconds?: number | undefined;
  /** How often to look again while waiting (default 100 ms). */
  readonly pollIntervalMs?: number | undefined;
}

const readWithPollArguments = z.object({
  queue: consumerQueueNameSchema,
  vt: visibilityTimeoutSchema,
  qty: readQuantitySchema,
  maxPollSeconds: z.int().min(0).max(consumerLimits.maxPollSeconds).default(5),
  pollIntervalMs: z.int().min(10).max(10_000).default(100),
  conditional: conditionalSchema.optional(),
});

/**
 * Like {@link read}, but when nothing is visible waits (in the database) up to `maxPollSeconds` for
 * a message: `pgmq.read_with_poll`. Holds its connection while it waits, so give it a dedicated one
 * or keep the wait short; NOTIFY wake-ups (see docs/queue-contract.md) are the cheaper way to wait.
 */
export async function readWithPoll<Q extends ConsumerQueueName>(
  q: Queryable,
  queue: Q,
  options: ReadWithPollOptions,
): Promise<QueueRecord<Q>[]> {
  const args = checkArguments("readWithPoll", readWithPollArguments, { queue, ...options });
  const { rows } = await q.query(
    `select ${messageRecordColumns}
     from pgmq.read_with_poll($1::text, $2::integer, $3::integer, $4::integer, $5::integer, $6::jsonb)`,
    [
      queue,
      args.vt,
      args.qty,
      args.maxPollSeconds,
      args.pollIntervalMs,
      JSON.stringify(args.conditional ?? {}),
    ],
  );
  return rows.map((row) => toQueueRecord(queue, row));
}
