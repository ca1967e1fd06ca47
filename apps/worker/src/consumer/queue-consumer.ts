import type { QueueMessage, QueueName } from "@balansity/queues";
import {
  moveToDeadLetter,
  parseMessage,
  type Queryable,
  type QueueRecord,
  setVisibilityTimeout,
} from "@balansity/queues/consumer";
import type { Logger } from "pino";
import type { QueueSettings } from "../config/worker-config.ts";
import { ArchiveBatcher } from "./archive-batcher.ts";
import { type BackoffPolicy, backoffSeconds, DEFAULT_BACKOFF } from "./backoff.ts";
import type { ConsumerMetrics } from "./consumer-metrics.ts";
import { PermanentError } from "./errors.ts";
import type { Processor } from "./processor.ts";
import { readWithPolicy } from "./read-policy.ts";

/*
 * One consumer per queue. States:
 *
 *   IDLE --start()--> RUNNING --stop()--> DRAINING --(in-flight done or deadline)--> STOPPED
 *
 * RUNNING loops: read as many messages as there are free slots (up to batchSize) with the queue's
 * visibility timeout, hand each to the processor without waiting, and then
 *   - read again at once when the batch was full (more are probably waiting),
 *   - otherwise wait for a wake-up: a NOTIFY for this queue, a slot freeing up while all were busy,
 *     or the poll interval (the backstop for lost notifications and the only wake-up behind a
 *     transaction pooler).
 * A read that fails (database away) is retried with capped exponential backoff; nothing is lost, since
 * unread messages stay in the queue and read ones reappear when their visibility timeout ends.
 *
 * Each message: schema-checked (invalid → dead-letter queue at once); past maxAttempts → DLQ; else the
 * processor runs while a heartbeat extends the visibility timeout at half its length, so a slow handler
 * is never picked up by a second worker. Success → archived in batches. PermanentError → DLQ.
 * Other errors → hidden again for a backoff period, or DLQ after the last attempt.
 *
 * DRAINING: no more reads; in-flight handlers get until the deadline, then their signal is aborted and
 * their messages are released (visibility reset to now) for another worker; pending archives flushed.
 */
export type ConsumerState = "idle" | "running" | "draining" | "stopped";

export interface QueueConsumerOptions<Q extends QueueName> {
  readonly db: Queryable;
  readonly processor: Processor<Q>;
  readonly settings: QueueSettings;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  readonly metrics: ConsumerMetrics;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
}

interface InFlight {
  readonly msgId: number;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

const MAX_READ_RETRY_MS = 30_000;

export class QueueConsumer<Q extends QueueName = QueueName> {
  readonly queue: Q;
  readonly #options: QueueConsumerOptions<Q>;
  readonly #archiver: ArchiveBatcher;
  readonly #inFlight = new Map<number, InFlight>();
  #state: ConsumerState = "idle";
  #wake: (() => void) | undefined;
  /** A wake-up that came while no one slept (during a read): the next sleep returns at once. */
  #wakeRequested = false;
  #waitingForSlot = false;
  #loop: Promise<void> = Promise.resolve();
  #readFailures = 0;

  constructor(options: QueueConsumerOptions<Q>) {
    this.#options = options;
    this.queue = options.processor.queue;
    this.#archiver = new ArchiveBatcher({
      db: options.db,
      queue: this.queue,
      onError: (error) =>
        options.logger.error({ queue: this.queue, err: error }, "archive failed; will retry"),
    });
  }

  get state(): ConsumerState {
    return this.#state;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** True while the last read succeeded (used by /readyz). */
  get healthy(): boolean {
    return this.#state === "running" && this.#readFailures === 0;
  }

  start(): void {
    if (this.#state !== "idle") throw new Error(`consumer for ${this.queue} already started`);
    this.#state = "running";
    this.#loop = this.#run();
  }

  /** A NOTIFY arrived (or a reconnect happened): look for messages now. */
  notify(): void {
    if (this.#wake) this.#wake();
    else this.#wakeRequested = true;
  }

  /** Stops reading, lets in-flight messages finish until the deadline, then releases the rest. */
  async stop(deadlineMs: number): Promise<void> {
    if (this.#state === "stopped" || this.#state === "idle") {
      this.#state = "stopped";
      return;
    }
    this.#state = "draining";
    this.#wake?.();
    await this.#loop;
    const inFlight = [...this.#inFlight.values()];
    const finished = await Promise.race([
      Promise.all(inFlight.map((entry) => entry.done)).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), deadlineMs).unref()),
    ]);
    if (!finished) {
      const left = [...this.#inFlight.values()];
      for (const entry of left) entry.controller.abort(new Error("shutdown deadline passed"));
      await Promise.all(
        left.map((entry) =>
          setVisibilityTimeout(this.#options.db, this.queue, entry.msgId, 0).catch((error: unknown) =>
            this.#options.logger.warn(
              { queue: this.queue, msg_id: entry.msgId, err: error },
              "release failed",
            ),
          ),
        ),
      );
      this.#options.logger.warn({ queue: this.queue, released: left.length }, "released unfinished messages");
    }
    await this.#archiver.flush();
    this.#state = "stopped";
  }

  async #run(): Promise<void> {
    const { settings, pollIntervalMs, logger } = this.#options;
    while (this.#state === "running") {
      const free = settings.concurrency - this.#inFlight.size;
      if (free <= 0) {
        this.#waitingForSlot = true;
        await this.#sleep(pollIntervalMs);
        this.#waitingForSlot = false;
        continue;
      }
      const wanted = Math.min(free, settings.batchSize);
      // A notification from here on may be for a row this read's snapshot cannot see: keep it.
      this.#wakeRequested = false;
      let messages: QueueRecord[];
      try {
        messages = await this.#read(wanted);
        if (this.#readFailures > 0) logger.info({ queue: this.queue }, "reading again after failures");
        this.#readFailures = 0;
      } catch (error) {
        this.#readFailures += 1;
        const delay = Math.min(MAX_READ_RETRY_MS, 100 * 2 ** this.#readFailures);
        logger.error({ queue: this.queue, err: error, retry_in_ms: delay }, "read failed");
        await this.#sleep(delay);
        continue;
      }
      for (const message of messages) this.#dispatch(message);
      if (messages.length < wanted) await this.#sleep(pollIntervalMs);
    }
  }

  /** In the order the processor's read policy asks for (say, high-priority emails first). */
  #read(qty: number): Promise<QueueRecord[]> {
    const { db, settings, processor } = this.#options;
    return readWithPolicy(db, this.queue, processor.readPolicy, {
      vt: settings.visibilityTimeoutSeconds,
      qty,
    });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakeRequested) {
      this.#wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === done) self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  #dispatch(raw: QueueRecord): void {
    const controller = new AbortController();
    const msgId = raw.msgId;
    const done = this.#handle(raw, msgId, controller).finally(() => {
      this.#inFlight.delete(msgId);
      if (this.#waitingForSlot) this.#wake?.();
    });
    this.#inFlight.set(msgId, { msgId, controller, done });
  }

  async #handle(raw: QueueRecord, msgId: number, controller: AbortController): Promise<void> {
    const { db, processor, settings, metrics } = this.#options;
    const attempt = raw.readCount;
    const logger = this.#options.logger.child({ queue: this.queue, msg_id: msgId, attempt });
    const started = performance.now();
    const parsed = parseMessage(this.queue, raw.message);
    if (!parsed.ok) {
      await this.#deadLetter(msgId, "invalid_message", parsed.issues.join("; "), attempt, logger);
      return;
    }
    if (attempt > settings.maxAttempts) {
      // Read more often than allowed without a recorded failure: the worker died while handling it.
      await this.#deadLetter(msgId, "max_attempts_exceeded", `read ${attempt} times`, attempt, logger);
      return;
    }
    const heartbeat = setInterval(
      () => {
        setVisibilityTimeout(db, this.queue, msgId, settings.visibilityTimeoutSeconds).catch(
          (error: unknown) => logger.warn({ err: error }, "heartbeat failed"),
        );
      },
      (settings.visibilityTimeoutSeconds * 1000) / 2,
    );
    try {
      // parseMessage narrows by queue name; Q is a catalog queue here, never a dead-letter queue.
      await processor.process(parsed.message as QueueMessage<Q>, {
        queue: this.queue,
        msgId: String(msgId),
        attempt,
        enqueuedAt: raw.enqueuedAt,
        logger,
        signal: controller.signal,
      });
      clearInterval(heartbeat);
      // Past the shutdown deadline the message was released to other workers: archiving it now could
      // lose work the handler cut short. Leave it; idempotency makes the redo harmless.
      if (controller.signal.aborted) return;
      this.#archiver.add(msgId);
      const seconds = (performance.now() - started) / 1000;
      metrics.processed(this.queue, seconds);
      logger.info({ duration_ms: Math.round(seconds * 1000) }, "processed");
    } catch (error) {
      clearInterval(heartbeat);
      if (controller.signal.aborted) return; // released at the shutdown deadline; retried elsewhere
      await this.#fail(msgId, attempt, error, logger);
    }
  }

  async #fail(msgId: number, attempt: number, error: unknown, logger: Logger): Promise<void> {
    const { db, settings, metrics } = this.#options;
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    metrics.failed(this.queue, code);
    if (error instanceof PermanentError) {
      await this.#deadLetter(msgId, code, message, attempt, logger);
      return;
    }
    if (attempt >= settings.maxAttempts) {
      await this.#deadLetter(msgId, code, `gave up after ${attempt} attempts: ${message}`, attempt, logger);
      return;
    }
    const delay = backoffSeconds(
      attempt,
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#options.random ?? Math.random,
    );
    logger.warn({ err: { code, message }, retry_in_s: delay }, "failed; will retry");
    metrics.retried(this.queue);
    try {
      await setVisibilityTimeout(db, this.queue, msgId, delay);
    } catch (setVtError) {
      // The message reappears when its current visibility timeout ends: a sooner retry, not a loss.
      logger.error({ err: setVtError }, "could not schedule the retry");
    }
  }

  async #deadLetter(
    msgId: number,
    code: string,
    message: string,
    attempt: number,
    logger: Logger,
  ): Promise<void> {
    try {
      await moveToDeadLetter(this.#options.db, this.queue, msgId, { code, message }, attempt);
      this.#options.metrics.deadLettered(this.queue, code);
      logger.warn({ err: { code, message } }, "moved to the dead-letter queue");
    } catch (error) {
      // Still in the queue: it is read again after its visibility timeout and dead-lettered then.
      logger.error({ err: error }, "could not move to the dead-letter queue");
    }
  }
}

function errorCode(error: unknown): string {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return "unexpected_error";
}
