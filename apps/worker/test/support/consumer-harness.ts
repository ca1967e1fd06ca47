import type { QueueName } from "@balansity/queues";
import type { Queryable } from "@balansity/queues/consumer";
import type pg from "pg";
import { pino } from "pino";
import type { QueueSettings } from "../../src/config/worker-config.ts";
import type { Processor } from "../../src/consumer/processor.ts";
import { QueueConsumer } from "../../src/consumer/queue-consumer.ts";
import { WorkerMetrics } from "../../src/ops/worker-metrics.ts";

/** A consumer around any processor, for behaviour the real processors cannot provoke on demand. */
export function consumerFor<Q extends QueueName>(
  pool: pg.Pool,
  processor: Processor<Q>,
  settings: Partial<QueueSettings> = {},
  options: { db?: Queryable; pollIntervalMs?: number } = {},
): { consumer: QueueConsumer<Q>; metrics: WorkerMetrics } {
  const metrics = new WorkerMetrics(pool);
  const consumer = new QueueConsumer({
    db: options.db ?? pool,
    processor,
    settings: { concurrency: 4, batchSize: 4, visibilityTimeoutSeconds: 30, maxAttempts: 3, ...settings },
    pollIntervalMs: options.pollIntervalMs ?? 50,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    metrics,
    random: () => 0,
    backoff: { baseSeconds: 1, maxSeconds: 1 },
  });
  return { consumer, metrics };
}
