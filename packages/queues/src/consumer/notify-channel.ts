import type { QueueName } from "../catalog.ts";

/**
 * The channel a queue's insert trigger notifies (`pg_notify('pgmq_<queue>', '<queue>')`, once per
 * transaction, migration 031): LISTEN on it to wake a consumer as soon as a message commits.
 *
 * ### Examples
 * ```ts
 * await client.query(`listen "${notifyChannel("email_queue")}"`);
 * ```
 */
export function notifyChannel(queue: QueueName): string {
  return `pgmq_${queue}`;
}
