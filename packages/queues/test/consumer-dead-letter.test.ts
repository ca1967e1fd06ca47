import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moveToDeadLetter, parseMessage, read } from "../src/consumer/index.ts";
import { deadLetterSchema, InvalidArgumentError } from "../src/index.ts";
import {
  emailMessage,
  messagesIn,
  openQueueDatabase,
  type QueueDatabase,
  sendRaw,
} from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

describe("moveToDeadLetter", () => {
  it("moves the message to <queue>_dlq with the error and attempts, and deletes the original", async () => {
    const original = emailMessage();
    const msgId = await sendRaw(database.pool, "email_queue", original);
    const [record] = await read(database.pool, "email_queue", { vt: 30, qty: 1 });

    const moved = await moveToDeadLetter(
      database.pool,
      "email_queue",
      msgId,
      { code: "smtp_550", message: "550 mailbox unavailable" },
      5,
    );

    expect(moved.deadLetterQueue).toBe("email_queue_dlq");
    const [dead] = await read(database.pool, "email_queue_dlq", { vt: 30, qty: 10 });
    expect(dead?.msgId).toBe(moved.msgId);
    const letter = deadLetterSchema.parse(dead?.message);
    expect(letter).toMatchObject({
      queue: "email_queue",
      original_msg_id: msgId,
      message: original,
      error: { code: "smtp_550", message: "550 mailbox unavailable" },
      attempts: 5,
    });
    expect(Date.parse(letter.enqueued_at)).toBe(record!.enqueuedAt.getTime());
    expect(Date.parse(letter.failed_at)).toBeGreaterThanOrEqual(Date.parse(letter.enqueued_at));

    // The typed reading of the same message.
    const parsed = parseMessage("email_queue_dlq", dead?.message);
    expect(parsed.ok && parsed.message.error.code).toBe("smtp_550");

    // Deleted, not archived.
    expect((await messagesIn(database.pool, "email_queue")).map((row) => row.msg_id)).not.toContain(msgId);
    const archived = await database.pool.query("select 1 from pgmq.a_email_queue where msg_id = $1", [msgId]);
    expect(archived.rowCount).toBe(0);
  });

  it("fails (P0002) for a message no longer in the queue and leaves the DLQ alone", async () => {
    const before = await messagesIn(database.pool, "payment_processing_queue_dlq");
    const error = await moveToDeadLetter(
      database.pool,
      "payment_processing_queue",
      777_777,
      { code: "x", message: "y" },
      1,
    ).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: "P0002" });
    expect((error as Error).message).toMatch(/message 777777 is not in queue "payment_processing_queue"/);
    expect(await messagesIn(database.pool, "payment_processing_queue_dlq")).toEqual(before);
  });

  it("dead-letters a message once when two workers try at the same time", async () => {
    const msgId = await sendRaw(database.pool, "analytics_queue", { event: "x" });
    const attempts = await Promise.allSettled(
      [1, 2].map(() =>
        moveToDeadLetter(database.pool, "analytics_queue", msgId, { code: "boom", message: "b" }, 3),
      ),
    );
    expect(attempts.map((attempt) => attempt.status).sort()).toEqual(["fulfilled", "rejected"]);
    const letters = (await messagesIn(database.pool, "analytics_queue_dlq")).filter(
      (row) => row.message.original_msg_id === msgId,
    );
    expect(letters).toHaveLength(1);
  });

  it("refuses an empty error code before any query", async () => {
    await expect(
      moveToDeadLetter(database.pool, "email_queue", 1, { code: " ", message: "m" }, 1),
    ).rejects.toThrow(InvalidArgumentError);
  });
});
