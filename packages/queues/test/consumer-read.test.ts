import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { read, readWithPoll } from "../src/consumer/index.ts";
import { InvalidArgumentError } from "../src/index.ts";
import { emailMessage, openQueueDatabase, type QueueDatabase, sendRaw } from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

describe("read", () => {
  it("returns the oldest visible messages as records and hides them for vt seconds", async () => {
    const first = await sendRaw(database.pool, "payment_processing_queue", { n: 1 });
    const second = await sendRaw(database.pool, "payment_processing_queue", { n: 2 });
    await sendRaw(database.pool, "payment_processing_queue", { n: 3 });

    const records = await read(database.pool, "payment_processing_queue", { vt: 30, qty: 2 });

    expect(records.map((record) => record.msgId)).toEqual([first, second]);
    const [record] = records;
    expect(record).toMatchObject({ queue: "payment_processing_queue", readCount: 1, message: { n: 1 } });
    expect(record?.enqueuedAt).toBeInstanceOf(Date);
    expect(record!.visibleAt.getTime() - Date.now()).toBeGreaterThan(25_000);

    const next = await read(database.pool, "payment_processing_queue", { vt: 30, qty: 10 });
    expect(next.map((r) => r.message)).toEqual([{ n: 3 }]);
    expect(await read(database.pool, "payment_processing_queue", { vt: 30, qty: 10 })).toEqual([]);
  });

  it("reads only matching messages with conditional (high-priority email first)", async () => {
    const normal = await sendRaw(database.pool, "email_queue", emailMessage({ priority: 0 }));
    const high = await sendRaw(database.pool, "email_queue", emailMessage({ priority: 1 }));

    const highFirst = await read(database.pool, "email_queue", {
      vt: 30,
      qty: 10,
      conditional: { priority: 1 },
    });
    expect(highFirst.map((record) => record.msgId)).toEqual([high]);
    const rest = await read(database.pool, "email_queue", { vt: 30, qty: 10 });
    expect(rest.map((record) => record.msgId)).toEqual([normal]);
  });

  it("refuses arguments out of range before any query, naming them", async () => {
    const error = await read(database.pool, "email_queue", { vt: -1, qty: 0 }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).issues).toEqual([
      'read: "vt" must be 0 or more seconds',
      'read: "qty" must be at least 1',
    ]);
    await expect(read(database.pool, "emails" as "email_queue", { vt: 1, qty: 1 })).rejects.toThrow(
      /read: "queue" must be one of email_queue, /,
    );
    await expect(read(database.pool, "email_queue", { vt: 1, qty: 1001 })).rejects.toThrow(
      /must be at most 1000/,
    );
  });
});

describe("readWithPoll", () => {
  it("waits for a message sent while it polls", async () => {
    const polling = readWithPoll(database.pool, "analytics_queue", {
      vt: 30,
      qty: 5,
      maxPollSeconds: 10,
      pollIntervalMs: 50,
    });
    // Sent from another connection after the poll started: no sleep, the poll is already waiting.
    const sent = await sendRaw(database.pool, "analytics_queue", { late: true });
    const records = await polling;
    expect(records.map((record) => record.msgId)).toEqual([sent]);
  });

  it("returns nothing once maxPollSeconds have passed", async () => {
    const started = Date.now();
    const records = await readWithPoll(database.pool, "report_generation_queue_dlq", {
      vt: 30,
      qty: 1,
      maxPollSeconds: 1,
      pollIntervalMs: 50,
    });
    expect(records).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
