// @balansity/queues/consumer: the primitives a worker is built from. Server-only. Each takes a
// Queryable (a node-postgres Pool, PoolClient or Client) and runs one pgmq 1.5 operation.

export { archive } from "./archive.ts";
export { archiveAndRead } from "./archive-and-read.ts";
export { consumerFunctions, missingConsumerFunctions } from "./consumer-functions.ts";
export { consumerLimits } from "./consumer-limits.ts";
export { leaveConsumer, markConsumerBusy, markConsumerWaiting } from "./consumer-presence.ts";
export { type ConsumerQueueName, consumerQueueNames, type MessageOf } from "./consumer-queues.ts";
export { deleteMessages } from "./delete-messages.ts";
export { recordFirstReads } from "./first-reads.ts";
export { handBack } from "./hand-back.ts";
export { hasQueuedMessage } from "./has-queued-message.ts";
export { listQueues } from "./list-queues.ts";
export { metrics, metricsAll, type QueueMetrics } from "./metrics.ts";
export { type DeadLetterError, moveToDeadLetter } from "./move-to-dead-letter.ts";
export type { MsgIds } from "./msg-id-list.ts";
export { notifyChannel } from "./notify-channel.ts";
export {
  type ParsedLegacyMessage,
  type ParsedMessage,
  parseLegacyMessage,
  parseMessage,
} from "./parse-message.ts";
export type { Queryable } from "./queryable.ts";
export type { QueueRecord } from "./queue-record.ts";
export { type ReadOptions, read } from "./read.ts";
export { type BudgetRead, readUnderBudget, type SendBudget } from "./read-under-budget.ts";
export { type ReadWithPollOptions, readWithPoll } from "./read-with-poll.ts";
export { setVisibilityTimeout } from "./set-visibility-timeout.ts";
export { setVisibilityTimeouts } from "./set-visibility-timeouts.ts";
