import type { QueueMessage, QueueName } from "@balansity/queues";
import type { Logger } from "pino";
import type { Metric } from "prom-client";
import type { ReadPolicy } from "./read-policy.ts";

/** What a processor knows about the message it handles. */
export interface ProcessorContext {
  readonly queue: QueueName;
  readonly msgId: string;
  /** 1 on this worker's first delivery (pgmq's read_ct less reads by earlier consumers and during outages). */
  readonly attempt: number;
  readonly enqueuedAt: Date;
  /** Carries `queue`, `msg_id` and `attempt`. */
  readonly logger: Logger;
  /** Aborted when shutdown's deadline passes: stop and let the message be retried. */
  readonly signal: AbortSignal;
}

/** Handles the messages of one queue. Throw PermanentError for "never going to work", anything else retries. */
export interface Processor<Q extends QueueName = QueueName> {
  readonly queue: Q;
  /** How the consumer reads this queue (default: oldest first). */
  readonly readPolicy?: ReadPolicy;
  /**
   * The transports this processor needs besides the database, each with a probe that resolves when it
   * works. A TransportUnavailableError naming one pauses the queue until its probe succeeds.
   */
  readonly probes?: Readonly<Record<string, () => Promise<void>>>;
  /**
   * While the breaker of `transport` is open, the messages this processor can still handle another way
   * (a second SMTP account for transactional email): the read policy for them. Undefined (or no
   * method): the queue pauses entirely.
   */
  whilePaused?(transport: string): ReadPolicy | undefined;
  /** Prometheus metrics of the processor's own, registered with the worker's. */
  readonly metrics?: readonly Metric[];
  process(message: QueueMessage<Q>, context: ProcessorContext): Promise<void>;
  /** Releases what the processor holds (an SMTP pool, timers); called once its consumer has stopped. */
  close?(): Promise<void>;
}
