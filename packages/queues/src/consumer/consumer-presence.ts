import * as z from "zod";
import { type QueueName, queueNames } from "../catalog.ts";
import { checkArguments } from "./check-arguments.ts";
import type { Queryable } from "./queryable.ts";

// The consumer's half of the wake-up protocol of migration 038: while a consumer says it is busy
// (it will read again before it sleeps), producers skip their NOTIFY, which with durable commits
// costs them most of a commit. The loop that uses it:
//
//   read → messages?  yes: markConsumerBusy (once per lease/2), handle, read again
//                     no:  markConsumerWaiting → true? read again : sleep until NOTIFY or poll
//
// markConsumerWaiting waits for producers that skipped their NOTIFY and reports their messages, so
// nothing is left waiting for the poll. leaveConsumer on shutdown. A lease that runs out (a consumer
// that died) makes producers notify again.

const presenceArguments = z.object({
  queue: z.enum(queueNames as [QueueName, ...QueueName[]], {
    error: `must be one of ${queueNames.join(", ")}`,
  }),
  consumerId: z
    .string()
    .min(1, { error: "must not be empty" })
    .max(200, { error: "must be at most 200 characters" }),
  leaseSeconds: z
    .int({ error: "must be a whole number of seconds" })
    .min(1, { error: "must be 1 to 3600 seconds" })
    .max(3600, { error: "must be 1 to 3600 seconds" }),
});

/**
 * Consumer `consumerId` of `queue` is busy for `leaseSeconds`: producers skip their wake-up NOTIFY.
 *
 * ### Examples
 * ```ts
 * await markConsumerBusy(pool, "email_queue", `${hostname()}:${process.pid}`, 30);
 * ```
 */
export async function markConsumerBusy(
  q: Queryable,
  queue: QueueName,
  consumerId: string,
  leaseSeconds: number,
): Promise<void> {
  const args = checkArguments("markConsumerBusy", presenceArguments, { queue, consumerId, leaseSeconds });
  await q.query("select public.pgmq_consumer_busy($1, $2, $3)", [
    args.queue,
    args.consumerId,
    args.leaseSeconds,
  ]);
}

const waitingArguments = presenceArguments.extend({
  maxWaitMs: z
    .int({ error: "must be a whole number of milliseconds" })
    .min(1, { error: "must be 1 to 10000 milliseconds" })
    .max(10_000, { error: "must be 1 to 10000 milliseconds" }),
});

/**
 * Consumer `consumerId` of `queue` is about to sleep: producers notify again. Resolves true when a
 * visible message is already waiting (read instead of sleeping). Call it on a connection outside a
 * transaction: it waits up to `maxWaitMs` (default 100) for producers that skipped their NOTIFY to
 * commit; a producer still open after that is found by the next poll.
 *
 * ### Examples
 * ```ts
 * if (!(await markConsumerWaiting(pool, "email_queue", id, 30))) await sleepUntilNotified();
 * ```
 */
export async function markConsumerWaiting(
  q: Queryable,
  queue: QueueName,
  consumerId: string,
  leaseSeconds: number,
  maxWaitMs = 100,
): Promise<boolean> {
  const args = checkArguments("markConsumerWaiting", waitingArguments, {
    queue,
    consumerId,
    leaseSeconds,
    maxWaitMs,
  });
  const { rows } = await q.query("select public.pgmq_consumer_waiting($1, $2, $3, $4) as visible", [
    args.queue,
    args.consumerId,
    args.leaseSeconds,
    args.maxWaitMs,
  ]);
  return (rows[0] as { visible?: boolean } | undefined)?.visible === true;
}

/** Consumer `consumerId` no longer consumes `queue` (shutdown): producers stop counting on it. */
export async function leaveConsumer(q: Queryable, queue: QueueName, consumerId: string): Promise<void> {
  const args = checkArguments("leaveConsumer", presenceArguments.omit({ leaseSeconds: true }), {
    queue,
    consumerId,
  });
  await q.query("select public.pgmq_consumer_leave($1, $2)", [args.queue, args.consumerId]);
}
