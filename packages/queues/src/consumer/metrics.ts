import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { int8Schema } from "./queue-record.ts";

/** `pgmq.metrics_result`, camel-cased. */
export interface QueueMetrics {
  readonly queue: string;
  /** Messages in the queue, hidden or not. */
  readonly queueLength: number;
  /** Messages a read would see now. */
  readonly visibleLength: number;
  /** Seconds since the newest / oldest message was sent; null when the queue is empty. */
  readonly newestMessageAgeSeconds: number | null;
  readonly oldestMessageAgeSeconds: number | null;
  /** Messages ever sent to the queue. */
  readonly totalMessages: number;
  readonly scrapedAt: Date;
}

const metricsRowSchema = z.object({
  queue_name: z.string(),
  queue_length: int8Schema,
  newest_msg_age_sec: z.number().nullable(),
  oldest_msg_age_sec: z.number().nullable(),
  total_messages: int8Schema,
  scrape_time: z.union([z.date(), z.string()]).transform((value) => new Date(value)),
  queue_visible_length: int8Schema,
});

function toQueueMetrics(row: unknown): QueueMetrics {
  const parsed = metricsRowSchema.parse(row);
  return {
    queue: parsed.queue_name,
    queueLength: parsed.queue_length,
    visibleLength: parsed.queue_visible_length,
    newestMessageAgeSeconds: parsed.newest_msg_age_sec,
    oldestMessageAgeSeconds: parsed.oldest_msg_age_sec,
    totalMessages: parsed.total_messages,
    scrapedAt: parsed.scrape_time,
  };
}

/** Length, visible length, message ages and messages ever sent of one queue: `pgmq.metrics`. */
export async function metrics(q: Queryable, queue: ConsumerQueueName): Promise<QueueMetrics> {
  checkArguments("metrics", z.object({ queue: consumerQueueNameSchema }), { queue });
  const { rows } = await q.query("select * from pgmq.metrics($1::text)", [queue]);
  return toQueueMetrics(rows[0]);
}

/** {@link metrics} of every queue in the database, the catalog's and any other: `pgmq.metrics_all`. */
export async function metricsAll(q: Queryable): Promise<QueueMetrics[]> {
  const { rows } = await q.query("select * from pgmq.metrics_all() order by queue_name");
  return rows.map(toQueueMetrics);
}
