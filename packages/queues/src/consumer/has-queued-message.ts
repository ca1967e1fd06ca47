import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import { conditionalSchema } from "./consumer-limits.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";

const hasQueuedArguments = z.object({ queue: consumerQueueNameSchema, containing: conditionalSchema });

/**
 * True when the queue holds a message (visible or not, not yet archived or deleted) whose JSON
 * contains `containing` (`message @> containing`): e.g. "is this idempotency key already waiting?".
 * It scans the queue table, so keep it for queues that stay short.
 *
 * ### Examples
 * ```ts
 * if (!(await hasQueuedMessage(pool, "email_queue", { idempotency_key: key }))) await queueEmailTask(…);
 * ```
 */
export async function hasQueuedMessage(
  q: Queryable,
  queue: ConsumerQueueName,
  containing: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  const args = checkArguments("hasQueuedMessage", hasQueuedArguments, { queue, containing });
  // The table name comes from the catalog (checked above), never from free text.
  const { rows } = await q.query(
    `select exists (select from pgmq.q_${args.queue} where message @> $1::jsonb) as found`,
    [JSON.stringify(args.containing)],
  );
  return (rows[0] as { found?: boolean } | undefined)?.found === true;
}
