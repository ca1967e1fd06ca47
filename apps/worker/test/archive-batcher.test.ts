import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ArchiveBatcher } from "../src/consumer/archive-batcher.ts";
import { queueLength } from "./support/domain.ts";
import { waitFor } from "./support/wait-for.ts";

const QUEUE = "analytics_queue";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on("error", () => undefined);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});
beforeEach(async () => {
  await pool.query(`select pgmq.purge_queue('${QUEUE}')`);
  await pool.query(`truncate pgmq.a_${QUEUE}`);
});

async function send(count: number): Promise<number[]> {
  const { rows } = await pool.query<{ id: string }>(
    "select id from pgmq.send_batch($1::text, array(select jsonb_build_object('n', n) from generate_series(1, $2) n)) id",
    [QUEUE, count],
  );
  return rows.map((row) => Number(row.id));
}

/** The pool, counting archive statements and how many were on the wire at once. */
function watched() {
  const stats = { statements: 0, concurrent: 0, maxConcurrent: 0 };
  const db = {
    async query(text: string, values?: unknown[]) {
      stats.statements += 1;
      stats.concurrent += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
      try {
        return await pool.query(text, values);
      } finally {
        stats.concurrent -= 1;
      }
    },
  };
  return { db, stats };
}

describe("ArchiveBatcher", () => {
  it("archives 1,000 ids in batches of 100, several on the wire at once, each id once", async () => {
    const ids = await send(1000);
    const { db, stats } = watched();
    const batcher = new ArchiveBatcher({
      db,
      queue: QUEUE,
      maxBatch: 100,
      maxInFlight: 4,
      onError: () => undefined,
    });
    for (const id of ids) batcher.add(id);
    await batcher.flush();

    expect(stats.statements).toBe(10);
    expect(stats.maxConcurrent).toBe(4);
    expect(await queueLength(pool, QUEUE)).toBe(0);
    const archived = await pool.query<{ n: number }>(
      `select count(distinct msg_id)::int as n from pgmq.a_${QUEUE}`,
    );
    expect(archived.rows[0]?.n).toBe(1000);
  });

  it("archives a partial batch left while every slot was busy, without another add or a flush", async () => {
    const ids = await send(250);
    const { db } = watched();
    const batcher = new ArchiveBatcher({
      db,
      queue: QUEUE,
      maxBatch: 100,
      maxInFlight: 2,
      onError: () => undefined,
    });
    for (const id of ids) batcher.add(id);
    await waitFor(async () => (await queueLength(pool, QUEUE)) === 0, { what: "all 250 archived" });
    expect(batcher.size).toBe(0);
  });

  it("keeps the ids of a failed batch and archives them with the next flush", async () => {
    const ids = await send(3);
    let fail = true;
    const errors: unknown[] = [];
    const db = {
      query: (text: string, values?: unknown[]) =>
        fail ? Promise.reject(new Error("connection terminated")) : pool.query(text, values),
    };
    const batcher = new ArchiveBatcher({ db, queue: QUEUE, onError: (error) => errors.push(error) });
    for (const id of ids) batcher.add(id);
    await batcher.flush();
    expect(errors).toHaveLength(1);
    expect(batcher.size).toBe(3);

    fail = false;
    await batcher.flush();
    expect(batcher.size).toBe(0);
    expect(await queueLength(pool, QUEUE)).toBe(0);
  });
});
