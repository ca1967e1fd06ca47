import type { QueueName } from "@balansity/queues";
import { archive, type Queryable } from "@balansity/queues/consumer";

/**
 * Archives successes in batches (one `pgmq.archive(queue, ids[])` per flush) instead of one round
 * trip each. An id whose archive fails stays pending and is tried again at the next flush; if the
 * worker dies first, the message reappears after its visibility timeout and the idempotency key
 * keeps the retry harmless.
 */
export class ArchiveBatcher {
  readonly #db: Queryable;
  readonly #queue: QueueName;
  readonly #maxBatch: number;
  readonly #delayMs: number;
  readonly #onError: (error: unknown) => void;
  #pending: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: {
    db: Queryable;
    queue: QueueName;
    maxBatch?: number;
    delayMs?: number;
    onError: (error: unknown) => void;
  }) {
    this.#db = options.db;
    this.#queue = options.queue;
    this.#maxBatch = options.maxBatch ?? 100;
    this.#delayMs = options.delayMs ?? 10;
    this.#onError = options.onError;
  }

  add(msgId: number): void {
    this.#pending.push(msgId);
    if (this.#pending.length >= this.#maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#delayMs);
  }

  /** Archives everything pending; resolves when done (errors go to onError, ids stay pending). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(async () => {
      const ids = this.#pending;
      if (ids.length === 0) return;
      this.#pending = [];
      try {
        await archive(this.#db, this.#queue, ids);
      } catch (error) {
        this.#pending.unshift(...ids);
        this.#onError(error);
      }
    });
    return this.#flushing;
  }

  get size(): number {
    return this.#pending.length;
  }
}
