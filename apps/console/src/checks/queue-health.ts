import { z } from "zod";
import { type Check, type Finding, type Queryable, report, warn } from "../doctor/check.ts";
import { type CatalogQueue, catalogQueues } from "./catalog-queues.ts";

export interface QueueHealthOptions {
  readonly queues?: readonly CatalogQueue[];
  /** A visible message older than this means nothing consumes the queue (default 15 minutes). */
  readonly staleAfterSeconds?: number;
}

// pgmq.metrics_result: bigint columns arrive as strings; queue_visible_length is pgmq 1.5+.
const metricsRowSchema = z.object({
  queue_name: z.string(),
  queue_length: z.coerce.number(),
  oldest_msg_age_sec: z.number().nullable(),
  queue_visible_length: z.coerce.number().nullish(),
});

/**
 * From pgmq.metrics_all(): a queue whose oldest visible message has waited too long (no worker
 * consuming it) and a dead-letter queue that holds messages are WARNs, with how to look at them.
 */
export function createQueueHealthCheck(options: QueueHealthOptions = {}): Check {
  const queues = options.queues ?? catalogQueues;
  const staleAfterSeconds = options.staleAfterSeconds ?? 15 * 60;
  return {
    name: "queue-health",
    description: "no queue has messages waiting too long; no dead-letter queue holds messages",
    async run(db: Queryable) {
      const { rows: present } = await db.query<{ present: boolean }>(
        "select pg_catalog.to_regprocedure('pgmq.metrics_all()') is not null as present",
      );
      if (present[0]?.present !== true) {
        // The extensions and queues checks say what to install.
        return report([], "pgmq is not installed: nothing to measure");
      }
      const { rows } = await db.query("select * from pgmq.metrics_all()");
      const metrics = new Map(
        rows.map((row) => {
          const parsed = metricsRowSchema.parse(row);
          return [parsed.queue_name, parsed] as const;
        }),
      );

      const findings: Finding[] = [];
      let waiting = 0;
      let deadLetters = 0;
      for (const queue of queues) {
        const main = metrics.get(queue.name);
        if (main !== undefined) {
          waiting += main.queue_length;
          const visible = main.queue_visible_length ?? main.queue_length;
          const age = main.oldest_msg_age_sec ?? 0;
          if (visible > 0 && age > staleAfterSeconds) {
            findings.push(
              warn(
                `${queue.name} has ${count(main.queue_length, "message")} (${visible} visible), the oldest waiting ${formatAge(age)}: no worker seems to consume it`,
                "start the worker (apps/worker) against this database, or read its /readyz and logs",
              ),
            );
          }
        }
        const dlq = metrics.get(queue.deadLetterQueue);
        if (dlq !== undefined && dlq.queue_length > 0) {
          deadLetters += dlq.queue_length;
          findings.push(
            warn(
              `${queue.deadLetterQueue} holds ${count(dlq.queue_length, "dead letter")}: messages of ${queue.name} that failed for good`,
              `inspect them: select msg_id, message->'error' as error, message->'attempts' as attempts, enqueued_at from pgmq.q_${queue.deadLetterQueue} order by msg_id desc limit 20`,
            ),
          );
        }
      }
      return report(findings, `${count(waiting, "message")} waiting, ${count(deadLetters, "dead letter")}`);
    },
  };
}

export const queueHealthCheck: Check = createQueueHealthCheck();

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `45 s`, `14 min`, `2 h 5 min`, `3 d 4 h`. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
