import * as z from "zod";
import { type DeadLetterQueueName, type QueueName, queueCatalog } from "../catalog.ts";
import { checkArguments } from "./check-arguments.ts";
import { msgIdSchema } from "./consumer-limits.ts";
import { queueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { int8Schema } from "./queue-record.ts";

/** Why a message is given up on; stored in the dead-letter message as `error`. */
export interface DeadLetterError {
  /** Stable and short: `invalid_message`, `smtp_550`, `template_error`. */
  readonly code: string;
  readonly message: string;
}

const moveArguments = z.object({
  queue: queueNameSchema,
  msgId: msgIdSchema,
  error: z.object({
    code: z.string().trim().min(1, { error: "must not be empty" }).max(200),
    message: z.string().max(10_000),
  }),
  attempts: z.int().min(0),
});

/**
 * Moves a message to its queue's dead-letter queue (`<queue>_dlq`) in one transaction, through
 * `public.pgmq_dead_letter`: the dead-letter message (see `deadLetterSchema`) holds the original,
 * the error and the attempts; the original is deleted. Throws (SQLSTATE P0002) when the message is
 * no longer in the queue.
 *
 * ### Examples
 * ```ts
 * await moveToDeadLetter(pool, "email_queue", record.msgId, { code: "smtp_550", message: reply }, record.readCount);
 * ```
 */
export async function moveToDeadLetter<Q extends QueueName>(
  q: Queryable,
  queue: Q,
  msgId: bigint | number,
  error: DeadLetterError,
  attempts: number,
): Promise<{ readonly deadLetterQueue: DeadLetterQueueName; readonly msgId: number }> {
  const args = checkArguments("moveToDeadLetter", moveArguments, { queue, msgId, error, attempts });
  const { rows } = await q.query(
    `select public.pgmq_dead_letter(
       queue_name => $1::text, msg_id => $2::bigint, error_code => $3::text, error_message => $4::text, attempts => $5::integer
     ) as msg_id`,
    [queue, args.msgId.toString(), args.error.code, args.error.message, args.attempts],
  );
  return {
    deadLetterQueue: queueCatalog[queue].deadLetterQueue,
    msgId: z.object({ msg_id: int8Schema }).parse(rows[0]).msg_id,
  };
}
