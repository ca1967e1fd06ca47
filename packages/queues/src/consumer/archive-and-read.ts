import { z } from "zod";
import { checkArguments } from "./check-arguments.ts";
import { conditionalSchema, readQuantitySchema, visibilityTimeoutSchema } from "./consumer-limits.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import { batchArguments, type MsgIds, plainMsgIds } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { messageRecordColumns, type QueueRecord, toQueueRecord } from "./queue-record.ts";
import type { ReadOptions } from "./read.ts";

const readArguments = z.object({
  queue: consumerQueueNameSchema,
  vt: visibilityTimeoutSchema,
  qty: readQuantitySchema,
  conditional: conditionalSchema.optional(),
});

/**
 * Archives `archiveIds` (the batch a consumer finished) and reads the next messages, in one statement
 * and one round trip: `public.pgmq_archive_and_read` (migration 042), which is `pgmq.archive` then
 * `pgmq.read`. Both happen or neither. An id no longer in the queue is skipped, as `archive` does.
 *
 * ### Examples
 * ```ts
 * let done: number[] = [];
 * for (;;) {
 *   const batch = await archiveAndRead(pool, "analytics_queue", done, { vt: 30, qty: 100 });
 *   if (batch.length === 0) break;
 *   done = await handleAll(batch); // the msg_ids handled
 * }
 * ```
 */
export async function archiveAndRead<Q extends ConsumerQueueName>(
  q: Queryable,
  queue: Q,
  archiveIds: MsgIds,
  options: ReadOptions,
): Promise<QueueRecord<Q>[]> {
  const args = checkArguments("archiveAndRead", readArguments, { queue, ...options });
  const ids =
    plainMsgIds(archiveIds) ??
    checkArguments("archiveAndRead", batchArguments, { queue, ids: archiveIds }).ids;
  const { rows } = await q.query(
    `select ${messageRecordColumns}
     from public.pgmq_archive_and_read($1::text, $2::bigint[], $3::integer, $4::integer, $5::jsonb)`,
    [queue, ids, args.vt, args.qty, JSON.stringify(args.conditional ?? {})],
  );
  return rows.map((row) => toQueueRecord(queue, row));
}
