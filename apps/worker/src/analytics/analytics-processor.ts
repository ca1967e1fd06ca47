import type { QueueMessage } from "@balansity/queues";
import type { Queryable } from "@balansity/queues/consumer";
import type { Logger } from "pino";
import { PermanentError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import { type AnalyticsEventRow, recordEvents } from "./record-events.ts";

export interface AnalyticsProcessorOptions {
  readonly db: Queryable;
  readonly logger: Logger;
  /** Events written per statement; a batch this size is written at once (default 500). */
  readonly maxBatchSize?: number;
  /** How long the first event of a batch waits for more before the batch is written (default 10 ms). */
  readonly maxDelayMs?: number;
}

interface PendingEvent {
  readonly row: AnalyticsEventRow;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const DEFAULT_MAX_BATCH_SIZE = 500;
const DEFAULT_MAX_DELAY_MS = 10;

/*
 * analytics_queue: micro-batched aggregation. The consumer hands over messages one by one (up to its
 * concurrency at once); `process()` adds each to the open batch and returns a promise that settles
 * when the batch is written. The batch is written as ONE statement (analytics/record-events.ts) when
 * it reaches maxBatchSize events, or maxDelayMs after its first event, whichever comes first; every
 * promise of the batch then resolves, or all reject together (and their messages are retried: the
 * idempotency keys make the retry count each event once). Batches are independent: a new one opens
 * while the previous is still being written.
 *
 * One exception to "all together": when the database refuses the batch's data (SQLSTATE class 22,
 * say an occurred_at PostgreSQL cannot represent), the events are written one by one, so that only the
 * bad one fails (PermanentError `invalid_event`, to the dead-letter queue) and the rest are counted.
 *
 * Batching only pays when the consumer runs many messages at once: give analytics_queue a concurrency
 * of about maxBatchSize (buildProcessors caps maxBatchSize at the queue's concurrency).
 */
export class AnalyticsProcessor implements Processor<"analytics_queue"> {
  readonly queue = "analytics_queue" as const;
  readonly #db: Queryable;
  readonly #logger: Logger;
  readonly #maxBatchSize: number;
  readonly #maxDelayMs: number;
  #pending: PendingEvent[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AnalyticsProcessorOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.#maxBatchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
    this.#maxDelayMs = Math.max(0, options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
  }

  /** Settles when the batch holding this event is written (the context is not needed: batches span messages). */
  process(message: QueueMessage<"analytics_queue">, _context?: ProcessorContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({
        row: {
          idempotency_key: message.idempotency_key,
          event: message.event,
          user_id: message.user_id ?? null,
          occurred_at: message.occurred_at,
        },
        resolve,
        reject,
      });
      if (this.#pending.length >= this.#maxBatchSize) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#maxDelayMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) void this.#write(batch);
  }

  async #write(batch: readonly PendingEvent[]): Promise<void> {
    const started = performance.now();
    try {
      const result = await recordEvents(
        this.#db,
        batch.map((pending) => pending.row),
      );
      for (const pending of batch) pending.resolve();
      this.#logger.debug(
        {
          queue: this.queue,
          batch_size: batch.length,
          counted: result.counted,
          duration_ms: Math.round(performance.now() - started),
        },
        "analytics batch written",
      );
    } catch (error) {
      if (batch.length > 1 && isDataException(error)) {
        this.#logger.warn(
          { queue: this.queue, batch_size: batch.length, err: error },
          "analytics batch refused by the database; writing its events one by one",
        );
        await this.#writeOneByOne(batch);
        return;
      }
      for (const pending of batch) pending.reject(batch.length === 1 ? asEventError(error) : error);
    }
  }

  async #writeOneByOne(batch: readonly PendingEvent[]): Promise<void> {
    for (const pending of batch) {
      try {
        await recordEvents(this.#db, [pending.row]);
        pending.resolve();
      } catch (error) {
        pending.reject(asEventError(error));
      }
    }
  }
}

/** SQLSTATE class 22 (data exception): this event can never be written as it is. */
function isDataException(error: unknown): boolean {
  return (
    error !== null &&
    typeof error === "object" &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("22")
  );
}

function asEventError(error: unknown): unknown {
  if (!isDataException(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new PermanentError("invalid_event", `the database refused this event: ${reason}`, { cause: error });
}
