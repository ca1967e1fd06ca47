import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics, metricsAll, read } from "../src/consumer/index.ts";
import { queueCatalog, queueNames } from "../src/index.ts";
import { openQueueDatabase, type QueueDatabase, sendRaw } from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

describe("metrics", () => {
  it("counts messages, visible messages and messages ever sent", async () => {
    const empty = await metrics(database.pool, "analytics_queue_dlq");
    expect(empty).toMatchObject({
      queue: "analytics_queue_dlq",
      queueLength: 0,
      visibleLength: 0,
      newestMessageAgeSeconds: null,
      oldestMessageAgeSeconds: null,
    });

    for (const n of [1, 2, 3]) await sendRaw(database.pool, "analytics_queue_dlq", { n });
    await read(database.pool, "analytics_queue_dlq", { vt: 60, qty: 1 });

    const after = await metrics(database.pool, "analytics_queue_dlq");
    expect(after).toMatchObject({ queueLength: 3, visibleLength: 2, totalMessages: empty.totalMessages + 3 });
    expect(after.oldestMessageAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(after.scrapedAt).toBeInstanceOf(Date);
  });
});

describe("metricsAll", () => {
  it("covers every queue of the catalog and its dead-letter queue", async () => {
    const all = await metricsAll(database.pool);
    const names = all.map((entry) => entry.queue);
    for (const queue of queueNames) {
      expect(names).toContain(queue);
      expect(names).toContain(queueCatalog[queue].deadLetterQueue);
    }
  });
});
