import { z } from "zod";
import { checkArguments } from "./check-arguments.ts";
import { visibilityTimeoutSchema } from "./consumer-limits.ts";
import type { ConsumerQueueName } from "./consumer-queues.ts";
import { type MsgIds, msgIdsArgument } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { toMsgIds } from "./queue-record.ts";

const secondsArgument = z.object({ seconds: visibilityTimeoutSchema });

/**
 * Hands messages back without spending an attempt: visible again in `seconds`, and the read that
 * fetched them taken off `read_ct` (`public.pgmq_hand_back`, migration 049), in one statement. For a
 * consumer that pauses (SMTP throttling, a transport outage) with messages read but not handled: the
 * count holds on every replica and across restarts. Returns the ids still in the queue.
 *
 * ### Examples
 * ```ts
 * await handBack(pool, "email_queue", unstartedIds, 0); // read again later as if never read
 * ```
 */
export async function handBack(
  q: Queryable,
  queue: ConsumerQueueName,
  ids: MsgIds,
  seconds: number,
): Promise<number[]> {
  const list = msgIdsArgument("handBack", queue, ids);
  const args = checkArguments("handBack", secondsArgument, { seconds });
  if (list.length === 0) return [];
  const { rows } = await q.query(
    "select msg_id from public.pgmq_hand_back($1::text, $2::bigint[], $3::integer) as msg_id",
    [queue, list, args.seconds],
  );
  return toMsgIds(rows);
}
