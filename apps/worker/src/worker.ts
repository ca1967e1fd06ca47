import { createPool, describeDatabaseConfig, toPoolConfig } from "@balansity/db";
import type { QueueName } from "@balansity/queues";
import type pg from "pg";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config/worker-config.ts";
import type { Processor } from "./consumer/processor.ts";
import { QueueConsumer } from "./consumer/queue-consumer.ts";
import { QueueNotifier } from "./consumer/queue-notifier.ts";
import { startHttpServer } from "./ops/http-server.ts";
import { WorkerMetrics } from "./ops/worker-metrics.ts";
import { type FallbackScheduler, startSchedulerIfNeeded } from "./scheduler/start-scheduler.ts";

export interface WorkerDependencies {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  /** Builds the processors once the pool exists; a queue without one is not consumed. */
  readonly processors: (pool: pg.Pool) => Promise<readonly Processor[]>;
  /** Test hook: deterministic retry jitter. */
  readonly random?: () => number;
}

export interface RunningWorker {
  readonly pool: pg.Pool;
  readonly url: string;
  readonly consumers: ReadonlyMap<QueueName, QueueConsumer>;
  readonly scheduler: FallbackScheduler | undefined;
  readonly metrics: WorkerMetrics;
  /** Graceful stop: no new reads, in-flight finish until the deadline, the rest released. */
  stop(): Promise<void>;
}

/** Starts consumers, notifications, the fallback scheduler and the ops HTTP server. */
export async function startWorker(deps: WorkerDependencies): Promise<RunningWorker> {
  const { config, logger } = deps;
  const pool = createPool(config.database);
  pool.on("error", (error) => logger.warn({ err: error }, "idle database connection lost"));
  const metrics = new WorkerMetrics(pool);
  const processors = await deps.processors(pool);

  const consumers = new Map<QueueName, QueueConsumer>();
  for (const processor of processors) {
    consumers.set(
      processor.queue,
      new QueueConsumer({
        db: pool,
        processor,
        settings: config.queues[processor.queue],
        pollIntervalMs: config.pollIntervalMs,
        logger,
        metrics,
        ...(deps.random ? { random: deps.random } : {}),
      }),
    );
  }

  let notifier: QueueNotifier | undefined;
  if (config.database.supportsListen) {
    notifier = new QueueNotifier({
      clientConfig: toPoolConfig(config.database),
      queues: [...consumers.keys()],
      logger,
      onNotify: (queue) => {
        if (queue === "*") for (const consumer of consumers.values()) consumer.notify();
        else consumers.get(queue)?.notify();
      },
    });
  } else {
    logger.warn(
      { poll_interval_ms: config.pollIntervalMs },
      "transaction pool mode: LISTEN is unavailable, polling for new messages",
    );
  }

  for (const consumer of consumers.values()) consumer.start();
  await notifier?.start();
  const scheduler = await startSchedulerIfNeeded({ pool, mode: config.scheduler, logger });

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    metrics,
    logger,
    health: {
      live: () => true,
      ready: async () => {
        const failing: string[] = [];
        try {
          await pool.query("select 1");
        } catch {
          failing.push("database");
        }
        for (const consumer of consumers.values())
          if (!consumer.healthy) failing.push(`consumer:${consumer.queue}`);
        if (notifier && !notifier.connected) failing.push("notifications");
        return failing;
      },
    },
  });

  logger.info(
    {
      database: describeDatabaseConfig(config.database),
      queues: [...consumers.keys()],
      scheduler: scheduler ? "worker" : "pg_cron or off",
      http: http.url,
    },
    "worker started",
  );

  let stopping: Promise<void> | undefined;
  return {
    pool,
    url: http.url,
    consumers,
    scheduler,
    metrics,
    stop() {
      stopping ??= (async () => {
        await scheduler?.stop();
        await Promise.all([...consumers.values()].map((consumer) => consumer.stop(config.shutdownTimeoutMs)));
        await Promise.all(processors.map((processor) => processor.close?.()));
        await notifier?.stop();
        await http.close();
        await pool.end();
        logger.info("worker stopped");
      })();
      return stopping;
    },
  };
}
