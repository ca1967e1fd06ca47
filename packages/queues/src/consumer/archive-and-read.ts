import { checkArguments } from "./check-arguments.ts";
import type { ConsumerQueueName } from "./consumer-queues.ts";
import { type MsgIds, msgIdsArgument } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { messageRecordColumns, type QueueRecord, toQueueRecord } from "./queue-record.ts";
import { type ReadOptions, readArguments } from "./read.ts";

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
  const ids = msgIdsArgument("archiveAndRead", queue, archiveIds);
  const { rows } = await q.query(
    `select ${messageRecordColumns}
     from public.pgmq_archive_and_read($1::text, $2::bigint[], $3::integer, $4::integer, $5::jsonb)`,
    [queue, ids, args.vt, args.qty, JSON.stringify(args.conditional ?? {})],
  );
  return rows.map((row) => toQueueRecord(queue, row));
}
