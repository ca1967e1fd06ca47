import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { read, setVisibilityTimeout } from "../src/consumer/index.ts";
import { openQueueDatabase, type QueueDatabase, sendRaw } from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

describe("setVisibilityTimeout", () => {
  it("makes a read message visible again at once with 0 seconds (retry now)", async () => {
    const msgId = await sendRaw(database.pool, "report_generation_queue", { retry: "now" });
    await read(database.pool, "report_generation_queue", { vt: 3600, qty: 1 });
    expect(await read(database.pool, "report_generation_queue", { vt: 3600, qty: 1 })).toEqual([]);

    const record = await setVisibilityTimeout(database.pool, "report_generation_queue", msgId, 0);
    expect(record).toMatchObject({ msgId, readCount: 1 });

    const again = await read(database.pool, "report_generation_queue", { vt: 30, qty: 1 });
    expect(again.map((r) => [r.msgId, r.readCount])).toEqual([[msgId, 2]]);
  });

  it("hides a message for the backoff given", async () => {
    const msgId = await sendRaw(database.pool, "report_generation_queue", { retry: "later" });
    const record = await setVisibilityTimeout(database.pool, "report_generation_queue", msgId, 120);
    expect(record!.visibleAt.getTime() - Date.now()).toBeGreaterThan(110_000);
    expect(await read(database.pool, "report_generation_queue", { vt: 30, qty: 10 })).toEqual([]);
  });

  it("returns undefined for a message no longer in the queue", async () => {
    expect(await setVisibilityTimeout(database.pool, "report_generation_queue", 424_242, 10)).toBeUndefined();
  });

  it("refuses a negative or fractional timeout", async () => {
    await expect(setVisibilityTimeout(database.pool, "report_generation_queue", 1, -5)).rejects.toThrow(
      /setVisibilityTimeout: "seconds" must be 0 or more seconds/,
    );
    await expect(setVisibilityTimeout(database.pool, "report_generation_queue", 1, 1.5)).rejects.toThrow(
      /"seconds" must be a whole number of seconds/,
    );
  });
});
