import type { QueueName } from "@balansity/queues";
import type { QueueRecord } from "@balansity/queues/consumer";
import type { Logger } from "pino";
import type { ProcessorContext } from "./processor.ts";

/**
 * The context of one message. Its child logger (with `queue`, `msg_id`, `attempt`) is made the first
 * time someone logs: a no-op handler that never logs pays nothing for it.
 */
export class MessageContext implements ProcessorContext {
  readonly queue: QueueName;
  readonly attempt: number;
  readonly enqueuedAt: Date;
  readonly signal: AbortSignal;
  readonly #numericId: number;
  readonly #parent: Logger;
  #logger: Logger | undefined;

  constructor(queue: QueueName, record: QueueRecord, attempt: number, parent: Logger, signal: AbortSignal) {
    this.queue = queue;
    this.#numericId = record.msgId;
    this.attempt = attempt;
    this.enqueuedAt = record.enqueuedAt;
    this.signal = signal;
    this.#parent = parent;
  }

  get msgId(): string {
    return String(this.#numericId);
  }

  get logger(): Logger {
    this.#logger ??= this.#parent.child({
      queue: this.queue,
      msg_id: this.#numericId,
      attempt: this.attempt,
    });
    return this.#logger;
  }
}
