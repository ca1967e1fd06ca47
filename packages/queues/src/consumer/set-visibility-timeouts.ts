import { checkArguments } from "./check-arguments.ts";
import { visibilityTimeoutSchema } from "./consumer-limits.ts";
import type { ConsumerQueueName } from "./consumer-queues.ts";
import { batchArguments, type MsgIds } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { toMsgIds } from "./queue-record.ts";

const setVisibilityTimeoutsArguments = batchArguments.extend({ seconds: visibilityTimeoutSchema });

/**
 * {@link setVisibilityTimeout} for many messages in one statement (`pgmq.set_vt` per id, one round
 * trip): a consumer's heartbeat for everything it holds, or releasing unstarted messages at shutdown
 * (`seconds` 0). Returns the ids still in the queue; the others were archived or deleted meanwhile.
 *
 * ### Examples
 * ```ts
 * await setVisibilityTimeouts(pool, "email_queue", heldIds, 60); // still ours for another minute
 * await setVisibilityTimeouts(pool, "email_queue", unstartedIds, 0); // visible to others now
 * ```
 */
export async function setVisibilityTimeouts(
  q: Queryable,
  queue: ConsumerQueueName,
  ids: MsgIds,
  seconds: number,
): Promise<number[]> {
  const args = checkArguments("setVisibilityTimeouts", setVisibilityTimeoutsArguments, {
    queue,
    ids,
    seconds,
  });
  if (args.ids.length === 0) return [];
  const { rows } = await q.query(
    `select m.msg_id
       from pg_catalog.unnest($2::bigint[]) as id,
            lateral pgmq.set_vt($1::text, id, $3::integer) as m`,
    [args.queue, args.ids, args.seconds],
  );
  return toMsgIds(rows);
}
