import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import { msgIdSchema, visibilityTimeoutSchema } from "./consumer-limits.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { messageRecordColumns, type QueueRecord, toQueueRecord } from "./queue-record.ts";

const setVisibilityTimeoutArguments = z.object({
  queue: consumerQueueNameSchema,
  msgId: msgIdSchema,
  seconds: visibilityTimeoutSchema,
});

/**
 * Makes a message visible again `seconds` from now (`pgmq.set_vt`): the retry backoff after a
 * failure, or extending a long job's lease. Returns the message, or undefined when it is no longer
 * in the queue. pgmq 1.5 takes one msg_id per call.
 *
 * ### Examples
 * ```ts
 * await setVisibilityTimeout(pool, "email_queue", record.msgId, backoffSeconds(record.readCount));
 * ```
 */
export async function setVisibilityTimeout<Q extends ConsumerQueueName>(
  q: Queryable,
  queue: Q,
  msgId: bigint | number,
  seconds: number,
): Promise<QueueRecord<Q> | undefined> {
  const args = checkArguments("setVisibilityTimeout", setVisibilityTimeoutArguments, {
    queue,
    msgId,
    seconds,
  });
  const { rows } = await q.query(
    `select ${messageRecordColumns} from pgmq.set_vt($1::text, $2::bigint, $3::integer)`,
    [queue, args.msgId.toString(), args.seconds],
  );
  return rows[0] === undefined ? undefined : toQueueRecord(queue, rows[0]);
}
