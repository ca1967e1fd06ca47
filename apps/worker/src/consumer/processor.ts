import type { QueueMessage, QueueName } from "@balansity/queues";
import type { Logger } from "pino";

/** What a processor knows about the message it handles. */
export interface ProcessorContext {
  readonly queue: QueueName;
  readonly msgId: string;
  /** 1 on the first delivery (pgmq's read_ct). */
  readonly attempt: number;
  readonly enqueuedAt: Date;
  readonly logger: Logger;
  /** Aborted when shutdown's deadline passes: stop and let the message be retried. */
  readonly signal: AbortSignal;
}

/** Handles the messages of one queue. Throw PermanentError for "never going to work", anything else retries. */
export interface Processor<Q extends QueueName = QueueName> {
  readonly queue: Q;
  process(message: QueueMessage<Q>, context: ProcessorContext): Promise<void>;
  /** Releases what the processor holds (an SMTP pool, timers); called once its consumer has stopped. */
  close?(): Promise<void>;
}
