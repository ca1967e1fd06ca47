import * as z from "zod";
import { checkArguments } from "./check-arguments.ts";
import { conditionalSchema, readQuantitySchema, visibilityTimeoutSchema } from "./consumer-limits.ts";
import { type ConsumerQueueName, consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { messageRecordColumns, type QueueRecord, toQueueRecord } from "./queue-record.ts";

export interface ReadOptions {
  /** Seconds the messages stay hidden from other readers. */
  readonly vt: number;
  /** At most this many messages (1..1000). */
  readonly qty: number;
  /** Only messages whose JSON contains this, e.g. `{ priority: 1 }`. */
  readonly conditional?: Readonly<Record<string, unknown>> | undefined;
}

/** Arguments of `read` (and of `archiveAndRead`'s read). */
export const readArguments = z.object({
  queue: consumerQueueNameSchema,
  vt: visibilityTimeoutSchema,
  qty: readQuantitySchema,
  conditional: conditionalSchema.optional(),
});

/**
 * Reads up to `qty` visible messages (oldest first, skipping ones another reader holds) and hides
 * them for `vt` seconds: `pgmq.read`. Returns [] when none is visible.
 *
 * ### Examples
 * ```ts
 * const high = await read(pool, "email_queue", { vt: 60, qty: 10, conditional: { priority: 1 } });
 * const rest = await read(pool, "email_queue", { vt: 60, qty: 10 - high.length });
 * ```
 */
export async function read<Q extends ConsumerQueueName>(
  q: Queryable,
  queue: Q,
  options: ReadOptions,
): Promise<QueueRecord<Q>[]> {
  const args = checkArguments("read", readArguments, { queue, ...options });
  const { rows } = await q.query(
    `select ${messageRecordColumns} from pgmq.read($1::text, $2::integer, $3::integer, $4::jsonb)`,
    [queue, args.vt, args.qty, JSON.stringify(args.conditional ?? {})],
  );
  return rows.map((row) => toQueueRecord(queue, row));
}
