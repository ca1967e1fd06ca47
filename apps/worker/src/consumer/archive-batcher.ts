import type { QueueName } from "@balansity/queues";
import { archive, type Queryable } from "@balansity/queues/consumer";

/**
 * Archives successes in batches (one `pgmq.archive(queue, ids[])` per batch) instead of one round
 * trip each: a batch goes when it is full (`maxBatch`) or `delayMs` after its first id, with up to
 * `maxInFlight` batches on the wire at once so a busy consumer never waits for one archive to return
 * before sending the next. An id whose archive fails stays pending and is tried again with the next
 * batch; if the worker dies first, the message reappears after its visibility timeout and the
 * idempotency key keeps the retry harmless.
 */
export class ArchiveBatcher {
  readonly #db: Queryable;
  readonly #queue: QueueName;
  readonly #maxBatch: number;
  readonly #delayMs: number;
  readonly #maxInFlight: number;
  readonly #onError: (error: unknown) => void;
  #pending: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Batches that failed so far (flush stops starting new ones after a failure). */
  #failures = 0;

  constructor(options: {
    db: Queryable;
    queue: QueueName;
    maxBatch?: number;
    delayMs?: number;
    maxInFlight?: number;
    onError: (error: unknown) => void;
  }) {
    this.#db = options.db;
    this.#queue = options.queue;
    this.#maxBatch = options.maxBatch ?? 100;
    this.#delayMs = options.delayMs ?? 10;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#onError = options.onError;
  }

  add(msgId: number): void {
    this.#pending.push(msgId);
    if (this.#pending.length >= this.#maxBatch) this.#send();
    else this.#sendAfterDelay();
  }

  /**
   * Archives everything pending, at most `maxInFlight` batches at once; resolves when done. A failed
   * batch goes to onError and its ids stay pending; no new batch is started after one fails.
   */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const failuresBefore = this.#failures;
    for (;;) {
      while (
        this.#failures === failuresBefore &&
        this.#pending.length > 0 &&
        this.#inFlight.size < this.#maxInFlight
      ) {
        void this.#archive(this.#pending.splice(0, this.#maxBatch));
      }
      if (this.#inFlight.size === 0) return;
      await Promise.race(this.#inFlight);
    }
  }

  get size(): number {
    return this.#pending.length;
  }

  /**
   * Hands up to `max` pending ids to a caller that archives them itself (a consumer's next read
   * archives them in the same round trip); if that fails, it gives them back with {@link restore}.
   */
  take(max: number): number[] {
    if (this.#pending.length === 0) return [];
    const ids = this.#pending.splice(0, max);
    if (this.#pending.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return ids;
  }

  /** Sends what is pending now instead of after the delay (the consumer went idle: nothing to wait for). */
  sendNow(): void {
    this.#send();
  }

  /** Ids from {@link take} whose archive did not happen: pending again, sent with the next batch. */
  restore(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.#pending.unshift(...ids);
    this.#sendAfterDelay();
  }

  /** Sends the pending ids `delayMs` from now, unless a send is already due. */
  #sendAfterDelay(): void {
    this.#timer ??= setTimeout(() => this.#send(), this.#delayMs);
  }

  /** Sends the pending ids (up to a batch) unless `maxInFlight` batches are out; their return sends more. */
  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0 || this.#inFlight.size >= this.#maxInFlight) return;
    void this.#archive(this.#pending.splice(0, this.#maxBatch));
    if (this.#pending.length >= this.#maxBatch) this.#send();
  }

  #archive(ids: number[]): Promise<void> {
    let failed = false;
    const done: Promise<void> = archive(this.#db, this.#queue, ids)
      .then(
        () => undefined,
        (error: unknown) => {
          failed = true;
          this.#failures += 1;
          this.#pending.unshift(...ids);
          this.#onError(error);
        },
      )
      .finally(() => {
        this.#inFlight.delete(done);
        if (failed) return;
        // What arrived while every slot was busy goes now (a full batch) or after the delay; after a
        // failure the ids wait for the next one added or flush(), so a database that is away is not
        // asked again every few milliseconds.
        if (this.#pending.length >= this.#maxBatch) this.#send();
        else if (this.#pending.length > 0) this.#sendAfterDelay();
      });
    this.#inFlight.add(done);
    return done;
  }
}
