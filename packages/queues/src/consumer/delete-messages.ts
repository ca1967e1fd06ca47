import { checkArguments } from "./check-arguments.ts";
import type { ConsumerQueueName } from "./consumer-queues.ts";
import { batchArguments, type MsgIds } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { toMsgIds } from "./queue-record.ts";

/**
 * Deletes messages for good, no archive copy, in one statement: `pgmq.delete(queue, msg_ids[])`.
 * Returns the ids that were deleted. Prefer {@link archive} for processed messages.
 */
export async function deleteMessages(q: Queryable, queue: ConsumerQueueName, ids: MsgIds): Promise<number[]> {
  const args = checkArguments("deleteMessages", batchArguments, { queue, ids });
  if (args.ids.length === 0) return [];
  const { rows } = await q.query("select msg_id from pgmq.delete($1::text, $2::bigint[]) as msg_id", [
    args.queue,
    args.ids,
  ]);
  return toMsgIds(rows);
}
