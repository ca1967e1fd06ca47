import type { ConsumerQueueName } from "./consumer-queues.ts";
import { type MsgIds, msgIdsArgument } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { toMsgIds } from "./queue-record.ts";

/**
 * Moves messages to the queue's archive (kept for audit, purged on a schedule) in one statement:
 * `pgmq.archive(queue, msg_ids[])`. Returns the ids that were archived; an id no longer in the queue
 * is left out.
 *
 * ### Examples
 * ```ts
 * const done = await archive(pool, "email_queue", [101, 102, 103]);
 * ```
 */
export async function archive(q: Queryable, queue: ConsumerQueueName, ids: MsgIds): Promise<number[]> {
  const msgIds = msgIdsArgument("archive", queue, ids);
  if (msgIds.length === 0) return [];
  const { rows } = await q.query("select msg_id from pgmq.archive($1::text, $2::bigint[]) as msg_id", [
    queue,
    msgIds,
  ]);
  return toMsgIds(rows);
}
