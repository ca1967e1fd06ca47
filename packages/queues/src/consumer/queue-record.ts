import { z } from "zod";
import type { ConsumerQueueName } from "./consumer-queues.ts";

/** One message as pgmq returns it (`pgmq.message_record`), not yet checked against its schema. */
export interface QueueRecord<Q extends ConsumerQueueName = ConsumerQueueName> {
  readonly queue: Q;
  readonly msgId: number;
  /** How many times it has been read, this read included. */
  readonly readCount: number;
  readonly enqueuedAt: Date;
  /** When it becomes visible to readers again. */
  readonly visibleAt: Date;
  /** The JSON body; narrow it with `parseMessage(queue, record.message)`. */
  readonly message: unknown;
  readonly headers: unknown;
}

/** int8 arrives as text from node-postgres (or as number / bigint with other type parsers). */
export const int8Schema = z.union([z.string(), z.number(), z.bigint()]).transform((value, context) => {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    context.addIssue({ code: "custom", message: `${String(value)} is not a safe integer` });
    return z.NEVER;
  }
  return number;
});

const timestampSchema = z.union([z.date(), z.string()]).transform((value) => new Date(value));

const messageRecordRowSchema = z.object({
  msg_id: int8Schema,
  read_ct: z.number(),
  enqueued_at: timestampSchema,
  vt: timestampSchema,
  message: z.unknown(),
  headers: z.unknown(),
});

/** A `pgmq.message_record` row → {@link QueueRecord}. */
export function toQueueRecord<Q extends ConsumerQueueName>(queue: Q, row: unknown): QueueRecord<Q> {
  // node-postgres' own types (int8 as text, timestamptz as Date) need no schema: a consumer reads
  // thousands of rows a second, and this is its hot path. Anything else goes through the schema.
  const fast = row as Record<string, unknown>;
  if (
    typeof fast.msg_id === "string" &&
    typeof fast.read_ct === "number" &&
    fast.enqueued_at instanceof Date &&
    fast.vt instanceof Date
  ) {
    const msgId = Number(fast.msg_id);
    if (Number.isSafeInteger(msgId)) {
      return {
        queue,
        msgId,
        readCount: fast.read_ct,
        enqueuedAt: fast.enqueued_at,
        visibleAt: fast.vt,
        message: fast.message,
        headers: fast.headers ?? null,
      };
    }
  }
  const parsed = messageRecordRowSchema.parse(row);
  return {
    queue,
    msgId: parsed.msg_id,
    readCount: parsed.read_ct,
    enqueuedAt: parsed.enqueued_at,
    visibleAt: parsed.vt,
    message: parsed.message,
    headers: parsed.headers ?? null,
  };
}

/** Rows of one bigint column (`msg_id`) → numbers. */
export function toMsgIds(rows: readonly unknown[]): number[] {
  return rows.map((row) => {
    const value = (row as { msg_id?: unknown }).msg_id;
    const fast = typeof value === "string" ? Number(value) : Number.NaN;
    return Number.isSafeInteger(fast) ? fast : msgIdRowSchema.parse(row).msg_id;
  });
}

const msgIdRowSchema = z.object({ msg_id: int8Schema });
