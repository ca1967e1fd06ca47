import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archive, archiveAndRead, deleteMessages, read } from "../src/consumer/index.ts";
import { InvalidArgumentError } from "../src/index.ts";
import {
  countingQueryable,
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

async function idsIn(table: string): Promise<number[]> {
  const { rows } = await database.pool.query<{ msg_id: string }>(
    `select msg_id from pgmq.${table} order by msg_id`,
  );
  return rows.map((row) => Number(row.msg_id));
}

describe("archive", () => {
  it("archives a batch in one statement and returns the ids it moved", async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => sendRaw(database.pool, "analytics_queue", { n })));
    const gone = 999_999;
    const { queryable, statements } = countingQueryable(database.pool);

    const archived = await archive(queryable, "analytics_queue", [...ids, gone]);

    expect(statements).toHaveLength(1);
    expect(archived.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(await idsIn("q_analytics_queue")).toEqual([]);
    expect(await idsIn("a_analytics_queue")).toEqual(expect.arrayContaining(ids));
  });

  it("takes one id, as number or bigint", async () => {
    const one = await sendRaw(database.pool, "analytics_queue", { one: true });
    const two = await sendRaw(database.pool, "analytics_queue", { two: true });
    expect(await archive(database.pool, "analytics_queue", one)).toEqual([one]);
    expect(await archive(database.pool, "analytics_queue", BigInt(two))).toEqual([two]);
    expect(await archive(database.pool, "analytics_queue", one)).toEqual([]);
  });

  it("sends nothing for an empty list and refuses a bad id", async () => {
    const { queryable, statements } = countingQueryable(database.pool);
    expect(await archive(queryable, "analytics_queue", [])).toEqual([]);
    expect(statements).toEqual([]);
    await expect(archive(queryable, "analytics_queue", [1, -2])).rejects.toThrow(InvalidArgumentError);
    await expect(archive(queryable, "analytics_queue", 1.5)).rejects.toThrow(
      /archive: "ids" must be a positive integer msg_id or a list/,
    );
  });
});

describe("archiveAndRead", () => {
  it("archives the finished batch and reads the next one in one statement", async () => {
    // One after another: msg_ids in the order of n.
    const ids: number[] = [];
    for (const n of [1, 2, 3, 4]) ids.push(await sendRaw(database.pool, "report_generation_queue", { n }));
    const [first, second, third, fourth] = ids as [number, number, number, number];
    const finished = await read(database.pool, "report_generation_queue", { vt: 60, qty: 2 });
    expect(finished.map((record) => record.msgId)).toEqual([first, second]);
    const { queryable, statements } = countingQueryable(database.pool);

    const next = await archiveAndRead(queryable, "report_generation_queue", [first, second, 999_999], {
      vt: 45,
      qty: 10,
    });

    expect(statements).toHaveLength(1);
    expect(next.map((record) => [record.msgId, record.readCount, record.message])).toEqual([
      [third, 1, { n: 3 }],
      [fourth, 1, { n: 4 }],
    ]);
    const hiddenFor = (next[0]?.visibleAt.getTime() ?? 0) - Date.now();
    expect(hiddenFor).toBeGreaterThan(40_000);
    expect(hiddenFor).toBeLessThanOrEqual(45_000);
    expect(next[0]?.enqueuedAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await idsIn("q_report_generation_queue")).toEqual([third, fourth]);
    expect(await idsIn("a_report_generation_queue")).toEqual(expect.arrayContaining([first, second]));
  });

  it("only reads when nothing is finished, and reads with a condition", async () => {
    const low = await sendRaw(database.pool, "analytics_queue", { lane: "low" });
    const high = await sendRaw(database.pool, "analytics_queue", { lane: "high" });

    const read1 = await archiveAndRead(database.pool, "analytics_queue", [], {
      vt: 30,
      qty: 5,
      conditional: { lane: "high" },
    });

    expect(read1.map((record) => record.msgId)).toEqual([high]);
    expect(await idsIn("q_analytics_queue")).toEqual([low, high]);
    await archive(database.pool, "analytics_queue", [low, high]);
  });

  it("refuses bad arguments before any statement, naming them", async () => {
    const { queryable, statements } = countingQueryable(database.pool);
    await expect(archiveAndRead(queryable, "analytics_queue", [1, -2], { vt: 30, qty: 5 })).rejects.toThrow(
      /archiveAndRead: "ids\[1\]"/,
    );
    await expect(archiveAndRead(queryable, "analytics_queue", [], { vt: 30, qty: 0 })).rejects.toThrow(
      /archiveAndRead: "qty" must be at least 1/,
    );
    expect(statements).toEqual([]);
  });
});

describe("deleteMessages", () => {
  it("deletes a batch for good (no archive copy) in one statement", async () => {
    const ids = await Promise.all(
      [1, 2].map((n) => sendRaw(database.pool, "payment_processing_queue", { n })),
    );
    await read(database.pool, "payment_processing_queue", { vt: 60, qty: 10 });
    const { queryable, statements } = countingQueryable(database.pool);

    const deleted = await deleteMessages(queryable, "payment_processing_queue", ids);

    expect(statements).toHaveLength(1);
    expect(deleted.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(await idsIn("q_payment_processing_queue")).toEqual([]);
    expect(await idsIn("a_payment_processing_queue")).toEqual([]);
  });
});
