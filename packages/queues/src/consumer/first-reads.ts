import { z } from "zod";
import { checkArguments } from "./check-arguments.ts";
import type { ConsumerQueueName } from "./consumer-queues.ts";
import { consumerQueueNameSchema } from "./consumer-queues.ts";
import type { Queryable } from "./queryable.ts";
import { int8Schema } from "./queue-record.ts";

const firstReadsArguments = z.object({
  queue: consumerQueueNameSchema,
  reads: z.array(
    z.object({
      msgId: z.number().int().positive(),
      readCount: z.number().int().min(1),
    }),
  ),
});

const firstReadRowSchema = z.object({ msg_id: int8Schema, first_read: z.number().int() });

/**
 * Records, for each message not recorded yet, `readCount` as the consumer's first read of it, and
 * returns the recorded first read of every message (`public.pgmq_first_reads`, migration 045).
 * A consumer counts attempts as `read_ct - firstRead + 1`, so reads by an earlier consumer (pgmq's
 * read_ct counts every reader) are not its attempts. Call it only for messages read before
 * (read_ct > 1) or failed: one read and done needs no record.
 *
 * ### Examples
 * ```ts
 * const firstReads = await recordFirstReads(pool, "email_queue", [{ msgId: 7, readCount: 3 }]);
 * firstReads.get(7); // 3 the first time; the same 3 when asked again at read_ct 4
 * ```
 */
export async function recordFirstReads(
  q: Queryable,
  queue: ConsumerQueueName,
  reads: ReadonlyArray<{ readonly msgId: number; readonly readCount: number }>,
): Promise<Map<number, number>> {
  const args = checkArguments("recordFirstReads", firstReadsArguments, { queue, reads });
  if (args.reads.length === 0) return new Map();
  const { rows } = await q.query(
    "select msg_id, first_read from public.pgmq_first_reads($1::text, $2::bigint[], $3::integer[])",
    [args.queue, args.reads.map((read) => read.msgId), args.reads.map((read) => read.readCount)],
  );
  return new Map(
    rows.map((row) => {
      const parsed = firstReadRowSchema.parse(row);
      return [parsed.msg_id, parsed.first_read] as const;
    }),
  );
}
