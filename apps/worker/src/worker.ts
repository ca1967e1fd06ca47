import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createPool, describeDatabaseConfig, toPoolConfig } from "@balansity/db";
import type { QueueName } from "@balansity/queues";
import type pg from "pg";
import type { Logger } from "pino";
import packageJson from "../package.json" with { type: "json" };
import { type AlertWebhookSender, startAlertWebhookSender } from "./alerts/alert-webhook-sender.ts";
import type { WorkerConfig } from "./config/worker-config.ts";
import type { Processor } from "./consumer/processor.ts";
import { QueueConsumer } from "./consumer/queue-consumer.ts";
import { QueueNotifier } from "./consumer/queue-notifier.ts";
import { TransportBreaker } from "./consumer/transport-breaker.ts";
import { budgetWindowResetAt, sendBudgetFor } from "./email/send-budget.ts";
import { LegacyCompleter } from "./legacy/legacy-completer.ts";
import { startHttpServer } from "./ops/http-server.ts";
import { retryWithBackoff } from "./ops/retry-with-backoff.ts";
import { waitForDatabase } from "./ops/wait-for-database.ts";
import { startWorkerHeartbeat, type WorkerHeartbeat } from "./ops/worker-heartbeat.ts";
import { WorkerMetrics } from "./ops/worker-metrics.ts";
import { type FallbackScheduler, startSchedulerIfNeeded } from "./scheduler/start-scheduler.ts";

/** How long a consumer's "busy" stands without renewal (a crashed worker's ends this soon after). */
const PRESENCE_LEASE_SECONDS = 10;
/** How often the worker records itself alive (check-alerts' no_worker waits alerts_worker_silence, 2 min). */
const HEARTBEAT_INTERVAL_MS = 5_000;
/** How often the alert webhook outbox is looked at, and how long one POST may take. */
const ALERT_WEBHOOK_POLL_MS = 5_000;
const ALERT_WEBHOOK_TIMEOUT_MS = 10_000;

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
  /** The worker's own cron scheduler, once started (only where pg_cron is absent, or when forced). */
  readonly scheduler: FallbackScheduler | undefined;
  readonly metrics: WorkerMetrics;
  /** Resolves once the database answered and the consumers run (at once when it was there at start). */
  readonly started: Promise<void>;
  /** Graceful stop: no new reads, in-flight finish until the deadline, the rest released. */
  stop(): Promise<void>;
}

/**
 * Starts the ops HTTP server, then — as soon as the database answers and holds the queues, however
 * long that takes — consumers, notifications and the fallback scheduler. Until then /readyz answers
 * 503 with what is wrong; nothing about the database's state at start-up ends the process.
 */
export async function startWorker(deps: WorkerDependencies): Promise<RunningWorker> {
  const { config, logger } = deps;
  const pool = createPool(config.database);
  pool.on("error", (error) => logger.warn({ err: error }, "idle database connection lost"));
  // A connection lost while checked out between two statements (inside a transaction) has no pool
  // listener: without this, the server's "terminating connection" would end the process.
  pool.on("connect", (client) => {
    client.on("error", (error) => logger.warn({ err: error }, "database connection lost while in use"));
  });
  const metrics = new WorkerMetrics(pool);
  const processors = await deps.processors(pool);
  for (const processor of processors)
    for (const metric of processor.metrics ?? []) metrics.registry.registerMetric(metric);
  const breakers = createBreakers({ pool, processors, config, logger, metrics });

  const consumerIdPrefix = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const startedAt = new Date();
  let heartbeat: WorkerHeartbeat | undefined;
  let alertWebhooks: AlertWebhookSender | undefined;
  const consumers = new Map<QueueName, QueueConsumer>();
  // Seed-era messages (a backlog from before this worker) are completed and handled like the rest.
  const legacy = new LegacyCompleter({ pool });
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
        breakers,
        legacy,
        ...(config.database.supportsListen
          ? {
              presence: {
                consumerId: `${consumerIdPrefix}:${processor.queue}`,
                leaseSeconds: PRESENCE_LEASE_SECONDS,
              },
            }
          : {}),
        ...(deps.random ? { random: deps.random } : {}),
      }),
    );
  }

  const notifier = config.database.supportsListen
    ? new QueueNotifier({
        clientConfig: toPoolConfig(config.database),
        queues: [...consumers.keys()],
        logger,
        onNotify: (queue) => {
          if (queue === "*") for (const consumer of consumers.values()) consumer.notify();
          else consumers.get(queue)?.notify();
        },
      })
    : undefined;
  if (!notifier) {
    logger.warn(
      { poll_interval_ms: config.pollIntervalMs },
      "transaction pool mode: LISTEN is unavailable, polling for new messages",
    );
  }

  let startupProblem: string | undefined = "starting";
  let firstCheckDone: () => void = () => undefined;
  const firstCheck = new Promise<void>((resolve) => {
    firstCheckDone = resolve;
  });
  let scheduler: FallbackScheduler | undefined;
  const stopping = new AbortController();

  const http = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    metrics,
    logger,
    health: {
      live: () => true,
      details: () => ({ heartbeat: heartbeat?.status() ?? null }),
      ready: async () => {
        if (startupProblem !== undefined) return [startupProblem];
        const failing: string[] = [];
        try {
          await pool.query("select 1");
        } catch {
          failing.push("database");
        }
        for (const breaker of breakers.values()) if (breaker.isOpen) failing.push(`paused:${breaker.name}`);
        for (const consumer of consumers.values())
          if (!consumer.healthy) failing.push(`consumer:${consumer.queue}`);
        if (notifier && !notifier.connected) failing.push("notifications");
        return failing;
      },
    },
  });

  const retry = { minDelayMs: 250, maxDelayMs: config.probeMaxIntervalMs };
  const start = async (): Promise<void> => {
    const reachable = await waitForDatabase({
      db: pool,
      queues: [...consumers.keys()],
      logger,
      signal: stopping.signal,
      onProblem: (problem) => {
        startupProblem = problem;
        firstCheckDone();
      },
      ...retry,
    });
    if (!reachable) return;
    for (const consumer of consumers.values()) consumer.start();
    // The first reads took the connection the check used. A backlog is read by several reads at once:
    // open their connections together now, not one after another as each reader first needs one.
    void warmPool(pool, Math.min(config.database.poolMax - 1, QueueConsumer.readsInFlight - 1));
    await notifier?.start();
    scheduler = await startSchedulerWhenPossible({ pool, config, logger, signal: stopping.signal, ...retry });
    heartbeat = startWorkerHeartbeat({
      pool,
      logger,
      identity: {
        workerId: consumerIdPrefix,
        hostname: hostname(),
        pid: process.pid,
        version: packageJson.version,
        startedAt,
      },
      intervalMs: HEARTBEAT_INTERVAL_MS,
    });
    alertWebhooks = startAlertWebhookSender({
      pool,
      logger,
      pollMs: ALERT_WEBHOOK_POLL_MS,
      timeoutMs: ALERT_WEBHOOK_TIMEOUT_MS,
    });
    startupProblem = undefined;
    logger.info(
      { queues: [...consumers.keys()], scheduler: scheduler ? "worker" : "pg_cron or off" },
      "consumers started",
    );
  };
  const started = start();
  // "worker started" comes with the database's state known: /readyz answers with it from now on.
  await Promise.race([firstCheck, started]);

  logger.info(
    { database: describeDatabaseConfig(config.database), queues: [...consumers.keys()], http: http.url },
    "worker started",
  );

  let stopped: Promise<void> | undefined;
  return {
    pool,
    url: http.url,
    consumers,
    get scheduler() {
      return scheduler;
    },
    metrics,
    started,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await started;
        for (const breaker of breakers.values()) breaker.stop();
        await scheduler?.stop();
        await Promise.all([...consumers.values()].map((consumer) => consumer.stop(config.shutdownTimeoutMs)));
        await Promise.all(processors.map((processor) => processor.close?.()));
        await alertWebhooks?.stop();
        // Last before the pool closes: until now this worker was still finishing work.
        await heartbeat?.stop();
        await notifier?.stop();
        await http.close();
        await pool.end();
        logger.info("worker stopped");
      })();
      return stopped;
    },
  };
}

/** Opens up to `connections` pool connections at once and returns them to the pool; failures are left to the reads. */
async function warmPool(pool: pg.Pool, connections: number): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: connections }, () => pool.connect()));
  for (const client of clients) if (client.status === "fulfilled") client.value.release();
}

/** One breaker per transport: the database (every consumer needs it) and each one a processor probes. */
function createBreakers(options: {
  pool: pg.Pool;
  processors: readonly Processor[];
  config: WorkerConfig;
  logger: Logger;
  metrics: WorkerMetrics;
}): ReadonlyMap<string, TransportBreaker> {
  const { pool, processors, config, logger, metrics } = options;
  const budget = sendBudgetFor(config.smtp);
  const probes = new Map<string, () => Promise<void>>([
    ["database", () => pool.query("select 1").then(() => undefined)],
  ]);
  for (const processor of processors)
    for (const [name, probe] of Object.entries(processor.probes ?? {})) probes.set(name, probe);
  const breakers = new Map<string, TransportBreaker>();
  for (const [name, probe] of probes) {
    metrics.transportPaused(name, false);
    breakers.set(
      name,
      new TransportBreaker({
        name,
        probe,
        logger,
        maxProbeDelayMs: config.probeMaxIntervalMs,
        maxThrottleDelayMs: config.smtp.throttleMaxPauseSeconds * 1000,
        // Under a send budget a throttled SMTP pause lasts until the budget's window reopens.
        ...(name === "smtp" && budget ? { throttleResumeAt: () => budgetWindowResetAt(pool, budget) } : {}),
        onStateChange: (state) => metrics.transportPaused(name, state === "open"),
      }),
    );
  }
  return breakers;
}

/** The scheduler's start reads the database too: it is retried the same way until it works. */
function startSchedulerWhenPossible(options: {
  pool: pg.Pool;
  config: WorkerConfig;
  logger: Logger;
  signal: AbortSignal;
  minDelayMs: number;
  maxDelayMs: number;
}): Promise<FallbackScheduler | undefined> {
  const { pool, config, logger } = options;
  return retryWithBackoff(() => startSchedulerIfNeeded({ pool, mode: config.scheduler, logger }), {
    ...options,
    onFailure: (error, retryInMs) =>
      logger.warn({ err: error, retry_in_ms: retryInMs }, "could not start the cron scheduler yet"),
  });
}
