import { metricsAll, type Queryable } from "@balansity/queues/consumer";
import { Counter, Gauge, Registry } from "prom-client";
import type { ConsumerMetrics } from "../consumer/consumer-metrics.ts";
import { QueueHistogram } from "./queue-histogram.ts";

/** The worker's Prometheus metrics, on a registry of its own (no global state between tests). */
export class WorkerMetrics implements ConsumerMetrics {
  readonly registry = new Registry();
  readonly #failed: Counter<"queue" | "code">;
  readonly #retried: Counter<"queue">;
  readonly #deadLettered: Counter<"queue" | "code">;
  readonly #duration: QueueHistogram;
  /** Successes not yet added to the counter: added when scraped, not one call per message. */
  readonly #processedSinceScrape = new Map<string, number>();
  readonly #transportPaused: Gauge<"transport">;

  /**
   * `snapshotMs`: queue depth and age come from one `pgmq.metrics_all()` (a count over every queue
   * table) at most this often, however often (or by how many scrapers at once) /metrics is read.
   */
  constructor(db: Queryable, options: { snapshotMs?: number; now?: () => number } = {}) {
    const registers = [this.registry];
    const snapshotMs = options.snapshotMs ?? 5_000;
    const now = options.now ?? Date.now;
    let snapshot: { at: number; queues: Promise<Awaited<ReturnType<typeof metricsAll>>> } | undefined;
    const readQueues = () => {
      if (!snapshot || now() - snapshot.at >= snapshotMs) {
        const queues = metricsAll(db);
        snapshot = { at: now(), queues };
        // A failed read is not kept: the next scrape asks again.
        queues.catch(() => {
          if (snapshot?.queues === queues) snapshot = undefined;
        });
      }
      return snapshot.queues;
    };
    const processedSinceScrape = this.#processedSinceScrape;
    // Registered, and read only through the registry: processed() counts in processedSinceScrape.
    new Counter({
      name: "balansity_messages_processed_total",
      help: "Messages handled successfully",
      labelNames: ["queue"],
      registers,
      collect() {
        for (const [queue, count] of processedSinceScrape) this.inc({ queue }, count);
        processedSinceScrape.clear();
      },
    });
    this.#failed = new Counter({
      name: "balansity_messages_failed_total",
      help: "Handler failures (each attempt)",
      labelNames: ["queue", "code"],
      registers,
    });
    this.#retried = new Counter({
      name: "balansity_messages_retried_total",
      help: "Failures scheduled for another attempt",
      labelNames: ["queue"],
      registers,
    });
    this.#deadLettered = new Counter({
      name: "balansity_messages_dead_lettered_total",
      help: "Messages moved to a dead-letter queue",
      labelNames: ["queue", "code"],
      registers,
    });
    this.#duration = new QueueHistogram({
      name: "balansity_handler_duration_seconds",
      help: "Time from handler start to success",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#transportPaused = new Gauge({
      name: "balansity_transport_paused",
      help: "1 while a transport (database, smtp, payment_provider) is down and the queues using it are paused",
      labelNames: ["transport"],
      registers,
    });
    // Depth and age are read from pgmq when scraped (one shared snapshot), so they are right even for
    // queues this worker skips; each gauge sets its own values, so neither lags a scrape behind.
    new Gauge({
      name: "balansity_queue_depth",
      help: "Messages in the queue (visible or not)",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const queue of await readQueues()) this.set({ queue: queue.queue }, queue.queueLength);
      },
    });
    new Gauge({
      name: "balansity_queue_oldest_message_age_seconds",
      help: "Age of the oldest message in the queue",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const queue of await readQueues())
          this.set({ queue: queue.queue }, queue.oldestMessageAgeSeconds ?? 0);
      },
    });
  }

  processed(queue: string, seconds: number): void {
    // Once per message: no label hashing here (see QueueHistogram); the count is added when scraped.
    this.#processedSinceScrape.set(queue, (this.#processedSinceScrape.get(queue) ?? 0) + 1);
    this.#duration.observe(queue, seconds);
  }

  failed(queue: string, code: string): void {
    this.#failed.inc({ queue, code });
  }

  retried(queue: string): void {
    this.#retried.inc({ queue });
  }

  deadLettered(queue: string, code: string): void {
    this.#deadLettered.inc({ queue, code });
  }

  /** 1 while the queues that use `transport` are paused behind its circuit breaker. */
  transportPaused(transport: string, paused: boolean): void {
    this.#transportPaused.set({ transport }, paused ? 1 : 0);
  }
}
