import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archive, read, setVisibilityTimeouts } from "../src/consumer/index.ts";
import { openQueueDatabase, type QueueDatabase, sendRaw } from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

const QUEUE = "report_generation_queue";

describe("setVisibilityTimeouts", () => {
  it("releases every given message at once with 0 seconds and leaves the others hidden", async () => {
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push(await sendRaw(database.pool, QUEUE, { n: i }));
    expect(await read(database.pool, QUEUE, { vt: 3600, qty: 3 })).toHaveLength(3);

    const released = await setVisibilityTimeouts(database.pool, QUEUE, [ids[0]!, ids[2]!], 0);
    expect(released.sort()).toEqual([ids[0], ids[2]].sort());

    const again = await read(database.pool, QUEUE, { vt: 3600, qty: 10 });
    expect(again.map((record) => record.msgId).sort()).toEqual([ids[0], ids[2]].sort());
    await archive(database.pool, QUEUE, ids as number[]);
  });

  it("extends the given messages and leaves out ids no longer in the queue", async () => {
    const kept = await sendRaw(database.pool, QUEUE, { kept: true });
    const gone = await sendRaw(database.pool, QUEUE, { gone: true });
    await read(database.pool, QUEUE, { vt: 1, qty: 2 });
    await archive(database.pool, QUEUE, gone);

    expect(await setVisibilityTimeouts(database.pool, QUEUE, [kept, gone], 3600)).toEqual([kept]);
    const { rows } = await database.pool.query<{ vt: Date }>(
      `select vt from pgmq.q_${QUEUE} where msg_id = $1`,
      [kept],
    );
    expect(rows[0]!.vt.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    await archive(database.pool, QUEUE, kept);
  });

  it("runs no query for an empty list and refuses a bad timeout, naming the field", async () => {
    let queries = 0;
    const counting = {
      query: async () => {
        queries += 1;
        return { rows: [], rowCount: 0 };
      },
    };
    expect(await setVisibilityTimeouts(counting, QUEUE, [], 10)).toEqual([]);
    expect(queries).toBe(0);
    await expect(setVisibilityTimeouts(database.pool, QUEUE, [1], -1)).rejects.toThrow(
      /setVisibilityTimeouts: "seconds" must be 0 or more seconds/,
    );
  });
});
