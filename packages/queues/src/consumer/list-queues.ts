import * as z from "zod";
import type { Queryable } from "./queryable.ts";

const rowSchema = z.object({ queue_name: z.string() });

/**
 * The names of every queue in the database, sorted: `pgmq.list_queues`. Unlike {@link metricsAll}
 * it counts no messages, so it stays cheap however long the queues are.
 *
 * ### Examples
 * ```ts
 * const queues = await listQueues(pool);
 * const missing = ["email_queue"].filter((queue) => !queues.includes(queue));
 * ```
 */
export async function listQueues(q: Queryable): Promise<string[]> {
  const { rows } = await q.query("select queue_name from pgmq.list_queues() order by queue_name");
  return rows.map((row) => rowSchema.parse(row).queue_name);
}
