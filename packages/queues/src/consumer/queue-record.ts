import * as z from "zod";
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

/**
 * The columns of a `pgmq.message_record` as the primitives select them: the two timestamps as epoch
 * milliseconds (float8), which become Dates for a fraction of the cost of parsing timestamp text — a
 * consumer reads thousands of rows a second, and this is its hot path.
 */
export const messageRecordColumns =
  "msg_id, read_ct, pg_catalog.date_part('epoch', enqueued_at) * 1000 as enqueued_ms, pg_catalog.date_part('epoch', vt) * 1000 as vt_ms, message, headers";

const epochMsSchema = z.union([z.number(), z.string()]).transform((value) => new Date(Number(value)));

const messageRecordRowSchema = z.object({
  msg_id: int8Schema,
  read_ct: z.number(),
  enqueued_ms: epochMsSchema,
  vt_ms: epochMsSchema,
  message: z.unknown(),
  headers: z.unknown(),
});

/** A row of {@link messageRecordColumns} → {@link QueueRecord}. */
export function toQueueRecord<Q extends ConsumerQueueName>(queue: Q, row: unknown): QueueRecord<Q> {
  // node-postgres' own types (int8 as text, float8 as number) need no schema. Anything else (other
  // type parsers) goes through the schema.
  const fast = row as Record<string, unknown>;
  if (
    typeof fast.msg_id === "string" &&
    typeof fast.read_ct === "number" &&
    typeof fast.enqueued_ms === "number" &&
    typeof fast.vt_ms === "number"
  ) {
    const msgId = Number(fast.msg_id);
    if (Number.isSafeInteger(msgId)) {
      return {
        queue,
        msgId,
        readCount: fast.read_ct,
        enqueuedAt: new Date(fast.enqueued_ms),
        visibleAt: new Date(fast.vt_ms),
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
    enqueuedAt: parsed.enqueued_ms,
    visibleAt: parsed.vt_ms,
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
