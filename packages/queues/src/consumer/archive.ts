import { checkArguments } from "./check-arguments.ts";
import { type ConsumerQueueName, consumerQueueNames } from "./consumer-queues.ts";
import { batchArguments, type MsgIds, plainMsgIds } from "./msg-id-list.ts";
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
  const plain = consumerQueueNames.includes(queue) ? plainMsgIds(ids) : undefined;
  const args = plain ? { queue, ids: plain } : checkArguments("archive", batchArguments, { queue, ids });
  if (args.ids.length === 0) return [];
  const { rows } = await q.query("select msg_id from pgmq.archive($1::text, $2::bigint[]) as msg_id", [
    args.queue,
    args.ids,
  ]);
  return toMsgIds(rows);
}
