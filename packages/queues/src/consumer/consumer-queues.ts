import * as z from "zod";
import {
  type DeadLetter,
  type DeadLetterQueueName,
  type QueueMessage,
  type QueueName,
  queueCatalog,
  queueNames,
} from "../catalog.ts";

/** A queue a consumer may address: a catalog queue or its dead-letter queue. */
export type ConsumerQueueName = QueueName | DeadLetterQueueName;

/** The parsed message type of a queue or dead-letter queue. */
export type MessageOf<Q extends ConsumerQueueName> = Q extends QueueName
  ? QueueMessage<Q>
  : Q extends DeadLetterQueueName
    ? DeadLetter
    : never;

export const consumerQueueNames: readonly ConsumerQueueName[] = Object.freeze([
  ...queueNames,
  ...queueNames.map((queue) => queueCatalog[queue].deadLetterQueue),
]);

export const consumerQueueNameSchema = z.enum(
  consumerQueueNames as [ConsumerQueueName, ...ConsumerQueueName[]],
  {
    error: `must be one of ${consumerQueueNames.join(", ")}`,
  },
);

export const queueNameSchema = z.enum(queueNames as [QueueName, ...QueueName[]], {
  error: `must be one of ${queueNames.join(", ")}`,
});

/** True for the catalog's queues (not their dead-letter queues). */
export function isQueueName(name: string): name is QueueName {
  return (queueNames as readonly string[]).includes(name);
}
