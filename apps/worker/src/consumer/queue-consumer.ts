import {
  isLegacyMessage,
  type LegacyQueueMessage,
  type QueueMessage,
  type QueueName,
} from "@balansity/queues";
import {
  handBack,
  leaveConsumer,
  markConsumerBusy,
  markConsumerWaiting,
  moveToDeadLetter,
  parseLegacyMessage,
  parseMessage,
  type Queryable,
  type QueueRecord,
  recordFirstReads,
  setVisibilityTimeout,
  setVisibilityTimeouts,
} from "@balansity/queues/consumer";
import type { Logger } from "pino";
import type { QueueSettings } from "../config/worker-config.ts";
import type { LegacyCompleter } from "../legacy/legacy-completer.ts";
import { ArchiveBatcher } from "./archive-batcher.ts";
import { type BackoffPolicy, backoffSeconds, DEFAULT_BACKOFF } from "./backoff.ts";
import type { ConsumerMetrics } from "./consumer-metrics.ts";
import { asDatabaseUnavailable } from "./database-unavailable.ts";
import { PermanentError, TransportUnavailableError } from "./errors.ts";
import { MessageContext } from "./message-context.ts";
import type { Processor } from "./processor.ts";
import { type ReadPolicy, readWithPolicy } from "./read-policy.ts";
import type { TransportBreaker } from "./transport-breaker.ts";

/*
 * One consumer per queue. States:
 *
 *   IDLE --start()--> RUNNING --stop()--> DRAINING --(in-flight done or deadline)--> STOPPED
 *
 * Readers and handlers share a local buffer of read-but-unstarted messages:
 *
 *   readers  READERS loops, each while RUNNING: read a batch (batchSize messages), whatever the free
 *            handler slots, once a whole batch fits in the buffer (it holds BUFFER_BATCHES batches),
 *            with the queue's visibility timeout, in the order the processor's read policy asks,
 *            archiving what has finished in the same statement, and append them to the buffer; read
 *            again at once when the read came back full, else wait for a wake-up: a NOTIFY for this
 *            queue, room for a whole batch in the buffer again, or the poll interval
 *            (the backstop for lost notifications and the only wake-up behind a transaction pooler).
 *            Every wake-up is also kept as a flag that the next reader's wait returns on, so one that
 *            comes during a read is never lost. Only the first loop reads while the queue is quiet;
 *            the others join while reads come back full (a backlog), so several reads are in flight
 *            exactly when there is work for them.
 *   dispatch whenever a slot frees or messages arrive: start handlers from the buffer, oldest first,
 *            until `concurrency` run. So the next batch is read while the current one is handled.
 *
 * One heartbeat per consumer, every half visibility timeout, extends everything held (buffered and
 * running) in one statement, so a slow handler or a long wait in the buffer never hands a message to
 * a second worker. Nothing per message on the hot path but the handler: no timer, no AbortController
 * (one shared signal), no child logger unless the processor asks for `context.logger`.
 *
 * Each message: schema-checked (invalid → dead-letter queue at once); past maxAttempts → DLQ; else the
 * processor runs. A seed-era message (no `version`) is checked against the seed-era shape and completed
 * into a version-1 one first (legacy/legacy-completer.ts); what cannot be completed goes to the DLQ.
 *
 * Attempts count from this worker's first read, not from pgmq's read_ct alone: read_ct counts every
 * reader, and a backlog may have been read before by another consumer (the seed-era Edge Function, a
 * `pgmq.read` by hand). A read that finds read_ct > 1 on a message it knows nothing of records that
 * read_ct as the first (`recordFirstReads`, migration 045, one statement per batch); a failure records
 * the first read too, so the next worker counts on from it. Reads that met an outage are not attempts
 * either: handed back, their read comes off read_ct in the database (`handBack`, 049), or is kept in
 * memory while the database is away too. A worker killed while handling a message it read first leaves no record:
 * the next reader counts from its own read, so such a message gets one attempt more than maxAttempts.
 *
 * Success → archived in batches, by the next read when one comes first (one statement for both).
 * PermanentError → DLQ. Other errors → hidden again for a backoff period (after any heartbeat in
 * flight, so the heartbeat cannot undo it), or DLQ after the last attempt.
 *
 * DRAINING: no more reads; buffered messages are released at once (visibility reset to now, one
 * statement) for another worker; running handlers get until the deadline, then the shared signal is
 * aborted and their messages released too; pending archives are flushed.
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
  /**
   * Circuit breakers by transport (`database`, and each name in the processor's `probes`), shared
   * between consumers. Without one for a transport, its outages are ordinary retryable failures.
   */
  readonly breakers?: ReadonlyMap<string, TransportBreaker>;
  /**
   * Takes part in the wake-up protocol of migration 038 (with LISTEN only): while this consumer is
   * busy, producers skip their NOTIFY — the most expensive part of their commit.
   */
  readonly presence?: { readonly consumerId: string; readonly leaseSeconds: number };
  /** Completes seed-era messages (no `version`); without it they are invalid messages (DLQ). */
  readonly legacy?: LegacyCompleter;
}

const MAX_READ_RETRY_MS = 30_000;
/** Read loops per consumer: up to this many reads in flight. */
const READERS = 4;
/** Batches the buffer of read-but-unstarted messages holds. */
const BUFFER_BATCHES = 4;
/** Finished messages a read archives on its way (the rest go in the archiver's own batches). */
const ARCHIVE_WITH_READ_MAX = 1000;

export class QueueConsumer<Q extends QueueName = QueueName> {
  /** Connections one consumer uses at once while there is a backlog (its reads in flight). */
  static readonly readsInFlight = READERS;
  readonly queue: Q;
  readonly #options: QueueConsumerOptions<Q>;
  readonly #archiver: ArchiveBatcher;
  /** Read, not yet started; `#bufferHead` is the next one (a moving start instead of shift()). */
  #buffer: QueueRecord[] = [];
  #bufferHead = 0;
  /** Started and not yet settled: msg_id → its handler's promise. */
  readonly #running = new Map<number, Promise<void>>();
  /** Running, but failed and being hidden for its backoff: no longer extended by the heartbeat. */
  readonly #retrying = new Set<number>();
  /** Aborted at the shutdown deadline: every handler's `context.signal`. */
  readonly #shutdown = new AbortController();
  /** `#shutdown.signal.aborted`, without a getter call per message. */
  #aborted = false;
  /** Whether the logger writes debug lines (read once: a per-message "processed" line is debug). */
  readonly #debug: boolean;
  #state: ConsumerState = "idle";
  /** Readers waiting for a wake-up. */
  readonly #sleepers = new Set<() => void>();
  /** A wake-up no read has answered yet: the next reader's wait returns at once. */
  #wakeRequested = false;
  #waitingForSpace = 0;
  /** Messages asked for by reads in flight: room they will take in the buffer. */
  #reserved = 0;
  #readers: Promise<void> = Promise.resolve();
  #readFailures = 0;
  /** The read policy held messages back on the last read: "waiting for the send budget" was logged. */
  #policyWaiting = false;
  /** The last read came back full: there is a backlog, every reader reads. */
  #backlog = false;
  /** While marked busy (presence): when to renew the lease; 0 when not marked busy. */
  #busyRenewAt = 0;
  /** The breakers of the transports this queue needs: while one is open, nothing is read or started. */
  readonly #breakers: readonly TransportBreaker[];
  /**
   * msg_id → reads that met a transport outage. They are not the message's failures, so they are taken
   * off pgmq's read_ct when counting attempts (kept in memory: a restart forgets at most these reads).
   */
  readonly #outageReads = new Map<number, number>();
  /**
   * msg_id → pgmq's read_ct at this worker's first read, for messages read before by someone else or
   * failed (from the database's record) or deferred; a message missing here was first read at read_ct 1.
   */
  readonly #firstReads = new Map<number, number>();
  /** Messages handed back during an outage whose release did not reach the database. */
  readonly #pendingRelease = new Set<number>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeat: Promise<void> = Promise.resolve();

  constructor(options: QueueConsumerOptions<Q>) {
    this.#options = options;
    this.queue = options.processor.queue;
    this.#debug = options.logger.isLevelEnabled("debug");
    const needed = ["database", ...Object.keys(options.processor.probes ?? {})];
    this.#breakers = needed.flatMap((name) => options.breakers?.get(name) ?? []);
    this.#archiver = new ArchiveBatcher({
      db: options.db,
      queue: this.queue,
      // Large: with a backlog the next read (every few ms) archives what finished; the archiver's own
      // batches go after its delay, when no read came first.
      maxBatch: ARCHIVE_WITH_READ_MAX,
      onError: (error) =>
        options.logger.error({ queue: this.queue, err: error }, "archive failed; will retry"),
    });
  }

  get state(): ConsumerState {
    return this.#state;
  }

  /** Handlers running now. */
  get inFlightCount(): number {
    return this.#running.size;
  }

  /** Messages read ahead and waiting for a free handler slot. */
  get bufferedCount(): number {
    return this.#buffer.length - this.#bufferHead;
  }

  /** True while the last read succeeded (used by /readyz). */
  get healthy(): boolean {
    return this.#state === "running" && this.#readFailures === 0;
  }

  start(): void {
    if (this.#state !== "idle") throw new Error(`consumer for ${this.queue} already started`);
    this.#state = "running";
    const intervalMs = (this.#options.settings.visibilityTimeoutSeconds * 1000) / 2;
    this.#heartbeatTimer = setInterval(() => this.#beat(), intervalMs);
    this.#heartbeatTimer.unref();
    this.#readers = Promise.all(Array.from({ length: READERS }, (_, index) => this.#read(index))).then(
      () => undefined,
    );
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  /** A NOTIFY arrived (or a reconnect happened): look for messages now. */
  notify(): void {
    this.#wakeRequested = true;
    this.#wakeAll();
  }

  /**
   * Stops reading, releases what was read but not started, lets running handlers finish until the
   * deadline, then releases the rest.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (this.#state === "stopped" || this.#state === "idle") {
      this.#state = "stopped";
      return;
    }
    this.#state = "draining";
    this.#wakeAll();
    await this.#readers;
    const presence = this.#options.presence;
    if (presence) {
      await leaveConsumer(this.#options.db, this.queue, presence.consumerId).catch(() => undefined);
    }
    const unstarted = this.#takeBuffer();
    if (unstarted.length > 0) {
      await this.#release(unstarted, "released messages read ahead but not started");
    }
    const finished = await Promise.race([
      Promise.all(this.#running.values()).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), deadlineMs).unref()),
    ]);
    clearInterval(this.#heartbeatTimer);
    if (!finished) {
      const left = [...this.#running.keys()];
      this.#aborted = true;
      this.#shutdown.abort(new Error("shutdown deadline passed"));
      await this.#release(left, "released unfinished messages");
    }
    await this.#heartbeat;
    await this.#archiver.flush();
    this.#state = "stopped";
  }

  /** Visible to other workers now (after any heartbeat in flight, which would hide them again). */
  async #release(
    ids: readonly number[],
    what: string,
    { handBack: uncount = false }: { handBack?: boolean } = {},
  ): Promise<void> {
    const { db, logger } = this.#options;
    await this.#heartbeat;
    try {
      // Handed back (a pause): the read is not an attempt. Released at shutdown: it was one.
      if (uncount) await handBack(db, this.queue, ids, 0);
      else await setVisibilityTimeouts(db, this.queue, ids, 0);
      logger.warn({ queue: this.queue, released: ids.length }, what);
    } catch (error) {
      // Tried again once the reader runs (the database is back), else they reappear after their timeout.
      if (this.#state === "running") for (const id of ids) this.#pendingRelease.add(id);
      logger.warn(
        { queue: this.queue, released: 0, err: error },
        "release failed; trying again when the database answers",
      );
    }
  }

  async #read(index: number): Promise<void> {
    const { db, settings, processor, pollIntervalMs, logger } = this.#options;
    const vt = settings.visibilityTimeoutSeconds;
    while (this.#state === "running") {
      const paused = this.#openBreaker();
      if (paused) {
        // stop() wakes the sleep; a closing breaker ends the wait too. A processor that may route
        // around the pause (whilePaused) is asked again every poll.
        const wait = processor.whilePaused ? pollIntervalMs : MAX_READ_RETRY_MS;
        await Promise.race([paused.whenClosed(), this.#sleep(wait)]);
        if (this.#state === "running" && !this.#openBreaker()) this.#dispatch();
        continue;
      }
      if (this.#pendingRelease.size > 0) {
        // One read again meanwhile (its timeout ran out during a long outage) is ours again: keep it.
        const ids = [...this.#pendingRelease].filter((id) => !this.#running.has(id) && !this.#isBuffered(id));
        this.#pendingRelease.clear();
        await this.#release(ids, "released messages held when the outage began");
      }
      // Whole batches only: a read is a statement and a scan past everything held, whatever its size.
      const wanted = settings.batchSize;
      if (this.#room() < wanted) {
        this.#waitingForSpace += 1;
        await this.#sleep(pollIntervalMs);
        this.#waitingForSpace -= 1;
        continue;
      }
      if (index > 0 && !this.#backlog) {
        // Quiet queue: one reader is enough. Woken with the others, without taking their wake-up.
        await this.#sleep(pollIntervalMs, { keepWakeUp: true });
        continue;
      }
      // A notification from here on may be for a row this read's snapshot cannot see: keep it.
      this.#wakeRequested = false;
      let records: QueueRecord[];
      let retryAt: Date | undefined;
      this.#reserved += wanted;
      // Finished messages not yet on their way to the archive go with this read: one round trip.
      const finished = this.#archiver.take(ARCHIVE_WITH_READ_MAX);
      try {
        ({ records, retryAt } = await readWithPolicy(db, this.queue, this.#readPolicy(), {
          vt,
          qty: wanted,
          archive: finished,
        }));
        if (this.#readFailures > 0) logger.info({ queue: this.queue }, "reading again after failures");
        this.#readFailures = 0;
      } catch (error) {
        this.#reserved -= wanted;
        this.#archiver.restore(finished);
        this.#readFailures += 1;
        const outage = asDatabaseUnavailable(error);
        const breaker = outage && this.#breakerFor(outage.transport);
        if (outage && breaker) {
          breaker.trip(outage);
          continue;
        }
        const delay = Math.min(MAX_READ_RETRY_MS, 100 * 2 ** this.#readFailures);
        logger.error({ queue: this.queue, err: error, retry_in_ms: delay }, "read failed");
        await this.#sleep(delay);
        continue;
      }
      this.#reserved -= wanted;
      await this.#learnFirstReads(records);
      if (retryAt === undefined && this.#policyWaiting && records.length > 0) {
        this.#policyWaiting = false;
        logger.info({ queue: this.queue }, "the send budget has room again");
      }
      if (index === 0 && records.length > 0) await this.#markBusy();
      for (const record of records) this.#buffer.push(record);
      // Read during a stop(): stop() releases the buffer once this loop has ended.
      if (this.#state === "running") this.#dispatch();
      const full = records.length >= wanted;
      if (full !== this.#backlog) {
        this.#backlog = full;
        if (full) this.#wakeAll();
      }
      if (retryAt !== undefined && !full) {
        // The read policy (the send budget) holds the rest back until then: a NOTIFY cannot help.
        await this.#waitForPolicy(retryAt);
        continue;
      }
      if (!full) {
        // Producers may have skipped their NOTIFY while we were busy: say we sleep, and read again
        // when something is already there.
        if (index === 0 && (await this.#markWaiting())) continue;
        await this.#sleep(pollIntervalMs);
      }
    }
  }

  /** Looks up (or records) the first read of every message read before that this consumer knows nothing of. */
  async #learnFirstReads(records: readonly QueueRecord[]): Promise<void> {
    const unknown = records.filter((record) => record.readCount > 1 && !this.#firstReads.has(record.msgId));
    if (unknown.length === 0) return;
    try {
      const firstReads = await recordFirstReads(this.#options.db, this.queue, unknown);
      for (const [msgId, firstRead] of firstReads) this.#firstReads.set(msgId, firstRead);
    } catch (error) {
      // Counted from read_ct alone this time: more attempts than there were, never fewer.
      this.#options.logger.warn(
        { queue: this.queue, err: error },
        "could not look up first reads; counting attempts from read_ct",
      );
    }
  }

  /** Sleeps until `retryAt` (or stop()), logging the first wait of a run of them. */
  async #waitForPolicy(retryAt: Date): Promise<void> {
    const { logger, settings } = this.#options;
    if (!this.#policyWaiting) {
      this.#policyWaiting = true;
      logger.info(
        { queue: this.queue, resume_at: retryAt.toISOString(), in_flight: this.#running.size },
        "waiting for the send budget",
      );
    }
    // Never longer than half a visibility timeout at a time: the clock of another replica may differ.
    const until = Math.min(retryAt.getTime(), Date.now() + settings.visibilityTimeoutSeconds * 500);
    while (this.#state === "running" && Date.now() < until) {
      await this.#sleep(until - Date.now(), { keepWakeUp: true });
    }
  }

  /** Renews this consumer's busy lease (once per half lease): producers skip their NOTIFY meanwhile. */
  async #markBusy(): Promise<void> {
    const presence = this.#options.presence;
    const now = Date.now();
    if (!presence || now < this.#busyRenewAt) return;
    this.#busyRenewAt = now + presence.leaseSeconds * 500;
    try {
      await markConsumerBusy(this.#options.db, this.queue, presence.consumerId, presence.leaseSeconds);
    } catch {
      this.#busyRenewAt = 0; // producers keep notifying: only slower, never stranded
    }
  }

  /** After being busy: producers notify again. True when a message is already visible. */
  async #markWaiting(): Promise<boolean> {
    const presence = this.#options.presence;
    if (!presence || this.#busyRenewAt === 0) return false;
    this.#busyRenewAt = 0;
    try {
      return await markConsumerWaiting(
        this.#options.db,
        this.queue,
        presence.consumerId,
        presence.leaseSeconds,
      );
    } catch {
      return true; // read again rather than trust a sleep the producers may not end
    }
  }

  /** Until a wake-up or `ms`; a kept wake-up returns at once (and is used up) unless `keepWakeUp`. */
  #sleep(ms: number, options: { keepWakeUp?: boolean } = {}): Promise<void> {
    if (this.#wakeRequested && !options.keepWakeUp) {
      this.#wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const sleepers = this.#sleepers;
      function done() {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
    });
  }

  /** Starts buffered messages until every handler slot is taken. */
  #dispatch(): void {
    if (this.#openBreaker()) return; // buffered messages wait for the transport (or are released)
    const { concurrency } = this.#options.settings;
    while (this.#running.size < concurrency && this.#bufferHead < this.#buffer.length) {
      const record = this.#buffer[this.#bufferHead] as QueueRecord;
      this.#bufferHead += 1;
      const msgId = record.msgId;
      this.#running.set(
        msgId,
        this.#handle(record).then(() => this.#settled(msgId)),
      );
    }
    if (this.#bufferHead === this.#buffer.length) {
      this.#buffer = [];
      this.#bufferHead = 0;
    }
  }

  #settled(msgId: number): void {
    this.#running.delete(msgId);
    this.#retrying.delete(msgId);
    if (this.#state !== "running") return;
    this.#dispatch();
    // Refill once a whole batch fits, not after every message.
    if (this.#waitingForSpace > 0 && this.#room() >= this.#options.settings.batchSize) this.#wakeAll();
    // Nothing left that could join the archive batch: send it rather than wait out its delay.
    if (this.#running.size === 0 && this.bufferedCount === 0 && this.#reserved === 0)
      this.#archiver.sendNow();
  }

  /** Messages the buffer can still take, counting those that reads in flight will bring. */
  #room(): number {
    return BUFFER_BATCHES * this.#options.settings.batchSize - this.bufferedCount - this.#reserved;
  }

  #isBuffered(msgId: number): boolean {
    for (let index = this.#bufferHead; index < this.#buffer.length; index += 1)
      if ((this.#buffer[index] as QueueRecord).msgId === msgId) return true;
    return false;
  }

  #takeBuffer(): number[] {
    const ids = this.#buffer.slice(this.#bufferHead).map((record) => record.msgId);
    this.#buffer = [];
    this.#bufferHead = 0;
    return ids;
  }

  /** Extends everything this consumer holds by one visibility timeout, in one statement. */
  #beat(): void {
    const ids: number[] = [];
    for (const msgId of this.#running.keys()) if (!this.#retrying.has(msgId)) ids.push(msgId);
    for (let index = this.#bufferHead; index < this.#buffer.length; index += 1) {
      ids.push((this.#buffer[index] as QueueRecord).msgId);
    }
    if (ids.length === 0) return;
    const { db, settings, logger } = this.#options;
    this.#heartbeat = this.#heartbeat.then(() =>
      setVisibilityTimeouts(db, this.queue, ids, settings.visibilityTimeoutSeconds).then(
        () => undefined,
        (error: unknown) =>
          logger.warn({ queue: this.queue, held: ids.length, err: error }, "heartbeat failed"),
      ),
    );
  }

  async #handle(record: QueueRecord): Promise<void> {
    const { processor, settings, metrics } = this.#options;
    const msgId = record.msgId;
    // Reads before this worker's first, and reads that met an outage, are not attempts of this message.
    const attempt =
      record.readCount - ((this.#firstReads.get(msgId) ?? 1) - 1) - (this.#outageReads.get(msgId) ?? 0);
    const context = new MessageContext(
      this.queue,
      record,
      attempt,
      this.#options.logger,
      this.#shutdown.signal,
    );
    const legacy = this.#options.legacy !== undefined && isLegacyMessage(record.message);
    const parsed = legacy
      ? parseLegacyMessage(this.queue, record.message)
      : parseMessage(this.queue, record.message);
    if (!parsed.ok) {
      await this.#deadLetter(msgId, "invalid_message", parsed.issues.join("; "), attempt, context);
      return;
    }
    if (attempt > settings.maxAttempts) {
      // Read more often than allowed without a recorded failure: the worker died while handling it.
      await this.#deadLetter(msgId, "max_attempts_exceeded", `read ${attempt} times`, attempt, context);
      return;
    }
    const started = performance.now();
    try {
      // parseMessage narrows by queue name; Q is a catalog queue here, never a dead-letter queue.
      const message = legacy
        ? await this.#options.legacy?.complete(this.queue, parsed.message as LegacyQueueMessage<Q>, context)
        : (parsed.message as QueueMessage<Q>);
      // null: a seed-era message handed on as another queue's job (the completer says which).
      if (message) await processor.process(message, context);
      else context.logger.info("seed-era message handed on as another queue's job");
    } catch (error) {
      if (this.#shutdown.signal.aborted) return; // released at the shutdown deadline; retried elsewhere
      const outage = error instanceof TransportUnavailableError ? error : asDatabaseUnavailable(error);
      const breaker = outage && this.#breakerFor(outage.transport);
      if (outage && breaker) {
        await this.#defer(msgId, breaker, outage, context);
        return;
      }
      await this.#fail(msgId, attempt, error, context);
      return;
    }
    this.#outageReads.delete(msgId);
    this.#firstReads.delete(msgId);
    // Past the shutdown deadline the message was released to other workers: archiving it now could
    // lose work the handler cut short. Leave it; idempotency makes the redo harmless.
    if (this.#aborted) return;
    this.#archiver.add(msgId);
    const seconds = (performance.now() - started) / 1000;
    metrics.processed(this.queue, seconds);
    if (this.#debug) context.logger.debug({ duration_ms: Math.round(seconds * 1000) }, "processed");
  }

  /** An open breaker pausing this queue: one the processor has no other route around (whilePaused). */
  #openBreaker(): TransportBreaker | undefined {
    const { processor } = this.#options;
    return this.#breakers.find((breaker) => breaker.isOpen && !processor.whilePaused?.(breaker.name));
  }

  /** The processor's read policy, or what it reads while a breaker it routes around is open. */
  #readPolicy(): ReadPolicy | undefined {
    const { processor } = this.#options;
    if (processor.whilePaused)
      for (const breaker of this.#breakers) {
        const policy = breaker.isOpen ? processor.whilePaused(breaker.name) : undefined;
        if (policy) return policy;
      }
    return processor.readPolicy;
  }

  #breakerFor(transport: string): TransportBreaker | undefined {
    return this.#breakers.find((breaker) => breaker.name === transport);
  }

  /**
   * The message met an outage of `breaker`'s transport: pause the queue, hand back everything read
   * ahead, and make this message visible again soon, with its attempt not counted.
   */
  async #defer(
    msgId: number,
    breaker: TransportBreaker,
    outage: TransportUnavailableError,
    context: MessageContext,
  ): Promise<void> {
    const { db, metrics } = this.#options;
    // Known to this worker: the next read of it is not taken for an earlier consumer's.
    if (!this.#firstReads.has(msgId)) this.#firstReads.set(msgId, 1);
    metrics.failed(this.queue, outage.code);
    breaker.trip(outage);
    const unstarted = this.#takeBuffer();
    if (unstarted.length > 0)
      void this.#release(unstarted, "handed back messages read ahead: the queue is paused", {
        handBack: true,
      });
    this.#retrying.add(msgId);
    await this.#heartbeat;
    try {
      // The read that fetched it comes off read_ct in the database: no replica counts it as an attempt.
      await handBack(db, this.queue, [msgId], 1);
    } catch {
      // The database is away too: remembered here, and released when it answers again.
      this.#outageReads.set(msgId, (this.#outageReads.get(msgId) ?? 0) + 1);
      this.#pendingRelease.add(msgId);
    }
    if (this.#debug) context.logger.debug({ transport: breaker.name }, "deferred by an outage");
  }

  async #fail(msgId: number, attempt: number, error: unknown, context: MessageContext): Promise<void> {
    const { db, settings, metrics } = this.#options;
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    metrics.failed(this.queue, code);
    if (error instanceof PermanentError) {
      await this.#deadLetter(msgId, code, message, attempt, context);
      return;
    }
    if (attempt >= settings.maxAttempts) {
      await this.#deadLetter(msgId, code, `gave up after ${attempt} attempts: ${message}`, attempt, context);
      return;
    }
    const delay = backoffSeconds(
      attempt,
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#options.random ?? Math.random,
    );
    context.logger.warn({ err: { code, message }, retry_in_s: delay }, "failed; will retry");
    await this.#rememberFirstRead(msgId);
    metrics.retried(this.queue);
    // A heartbeat already on its way still names this message: let it land first, or it would
    // replace the backoff with a whole visibility timeout.
    this.#retrying.add(msgId);
    await this.#heartbeat;
    try {
      await setVisibilityTimeout(db, this.queue, msgId, delay);
    } catch (setVtError) {
      // The message reappears when its current visibility timeout ends: a sooner retry, not a loss.
      context.logger.error({ err: setVtError }, "could not schedule the retry");
    }
  }

  /**
   * A failed message is read again, by this worker or another: record its first read, so that read is
   * counted as an attempt and not taken for someone else's.
   */
  async #rememberFirstRead(msgId: number): Promise<void> {
    const firstRead = this.#firstReads.get(msgId) ?? 1;
    this.#firstReads.set(msgId, firstRead);
    try {
      await recordFirstReads(this.#options.db, this.queue, [{ msgId, readCount: firstRead }]);
    } catch (error) {
      this.#options.logger.warn(
        { queue: this.queue, msg_id: msgId, err: error },
        "could not record the first read",
      );
    }
  }

  async #deadLetter(
    msgId: number,
    code: string,
    message: string,
    attempt: number,
    context: MessageContext,
  ): Promise<void> {
    try {
      await moveToDeadLetter(this.#options.db, this.queue, msgId, { code, message }, attempt);
      this.#outageReads.delete(msgId);
      this.#firstReads.delete(msgId);
      this.#options.metrics.deadLettered(this.queue, code);
      context.logger.warn({ err: { code, message } }, "moved to the dead-letter queue");
    } catch (error) {
      // Still in the queue: it is read again after its visibility timeout and dead-lettered then.
      context.logger.error({ err: error }, "could not move to the dead-letter queue");
    }
  }
}

function errorCode(error: unknown): string {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return "unexpected_error";
}
