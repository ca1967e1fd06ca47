import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Processor } from "../src/consumer/processor.ts";
import type { QueueConsumer } from "../src/consumer/queue-consumer.ts";
import { consumerFor } from "./support/consumer-harness.ts";
import { queueLength, sendRaw } from "./support/domain.ts";
import { waitFor } from "./support/wait-for.ts";

const QUEUE = "payment_processing_queue";

let db: TestDatabase;
let pool: pg.Pool;
let running: QueueConsumer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
  pool.on("error", () => undefined);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});
beforeEach(async () => {
  await pool.query(`select pgmq.purge_queue('${QUEUE}'), pgmq.purge_queue('${QUEUE}_dlq')`);
  await pool.query(`truncate pgmq.a_${QUEUE}`);
});
afterEach(async () => {
  await Promise.all(running.map((consumer) => consumer.stop(1000)));
  running = [];
});

const payment = (action = "completed") => ({
  version: 1,
  idempotency_key: randomUUID(),
  payment_id: randomUUID(),
  action,
});

function start(processor: Processor<typeof QUEUE>, settings = {}, pollIntervalMs = 50) {
  const { consumer } = consumerFor(pool, processor, settings, { pollIntervalMs });
  consumer.start();
  running.push(consumer);
  return consumer;
}

/** A handler that waits until `open()`; `started` lists the keys it was given, in order. */
function gatedProcessor() {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const started: string[] = [];
  const processor: Processor<typeof QUEUE> = {
    queue: QUEUE,
    async process(message) {
      started.push(message.idempotency_key);
      await gate;
    },
  };
  return { processor, started, open };
}

async function readCounts(): Promise<number[]> {
  const { rows } = await pool.query<{ read_ct: number }>(
    `select read_ct from pgmq.q_${QUEUE} order by msg_id`,
  );
  return rows.map((row) => row.read_ct);
}

describe("QueueConsumer prefetch", () => {
  it("reads a backlog ahead, whole batches up to four, while every handler slot is busy", async () => {
    const { processor, started, open } = gatedProcessor();
    for (let i = 0; i < 20; i += 1) await sendRaw(pool, QUEUE, payment());
    const consumer = start(processor, { concurrency: 1, batchSize: 4 });

    await waitFor(() => consumer.inFlightCount === 1 && consumer.bufferedCount === 15, {
      what: "one running and fifteen read ahead",
    });
    expect(started).toHaveLength(1);
    // Four reads of a whole batch: one running, fifteen buffered. A fifth batch would not fit in the
    // sixteen places, so the other four wait in the queue, not read.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(consumer.bufferedCount).toBe(15);
    expect(await readCounts()).toEqual([...Array(16).fill(1), 0, 0, 0, 0]);
    open();
    await waitFor(async () => (await queueLength(pool, QUEUE)) === 0, { what: "all archived" });
    expect(started).toHaveLength(20);
  });

  it("archives what it finished with its next read", async () => {
    const statements = { carried: 0 };
    const counting = {
      query: (text: string, values?: unknown[]) => {
        if (text.includes("pgmq_archive_and_read(")) statements.carried += 1;
        return pool.query(text, values);
      },
    };
    const ids: number[] = [];
    for (let i = 0; i < 120; i += 1) ids.push(await sendRaw(pool, QUEUE, payment()));
    let handled = 0;
    const { consumer } = consumerFor(
      pool,
      {
        queue: QUEUE,
        async process() {
          handled += 1;
        },
      },
      { concurrency: 8, batchSize: 10 },
      { db: counting, pollIntervalMs: 60_000 },
    );
    consumer.start();
    running.push(consumer);

    await waitFor(async () => (await queueLength(pool, QUEUE)) === 0, { what: "all archived" });
    expect(handled).toBe(120);
    expect(statements.carried).toBeGreaterThan(0);
    const { rows } = await pool.query<{ msg_id: string }>(
      `select msg_id from pgmq.a_${QUEUE} order by msg_id`,
    );
    expect(rows.map((row) => Number(row.msg_id))).toEqual(ids);
  });

  it("reads a quiet queue with one reader: one read per wake-up", async () => {
    let reads = 0;
    const counting = {
      query: (text: string, values?: unknown[]) => {
        if (text.includes("pgmq.read(")) reads += 1;
        return pool.query(text, values);
      },
    };
    const handled: string[] = [];
    const { consumer } = consumerFor(
      pool,
      {
        queue: QUEUE,
        async process(message) {
          handled.push(message.idempotency_key);
        },
      },
      { concurrency: 4, batchSize: 4 },
      { db: counting, pollIntervalMs: 60_000 },
    );
    consumer.start();
    running.push(consumer);
    await waitFor(() => reads === 1, { what: "the first read" });
    await sendRaw(pool, QUEUE, payment());
    consumer.notify();
    await waitFor(() => handled.length === 1, { what: "the message" });
    // The start-up read and the one the wake-up asked for; the other readers stay asleep.
    expect(reads).toBe(2);
  });

  it("on stop, releases read-ahead messages at once without starting them, and finishes the running one", async () => {
    const { processor, started, open } = gatedProcessor();
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await sendRaw(pool, QUEUE, payment()));
    const consumer = start(processor, { concurrency: 1, batchSize: 4 });
    await waitFor(() => consumer.inFlightCount === 1 && consumer.bufferedCount === 4, {
      what: "one running and four read ahead",
    });
    running = running.filter((entry) => entry !== consumer);

    const stopping = consumer.stop(10_000);
    // Released before the running handler is done: another worker can take them right away.
    const again = await waitFor(
      async () => {
        const { rows } = await pool.query<{ msg_id: string }>(
          `select msg_id from pgmq.read('${QUEUE}', 30, 10)`,
        );
        return rows.length > 0 ? rows.map((row) => Number(row.msg_id)) : undefined;
      },
      { what: "the read-ahead messages to be visible again" },
    );
    open();
    await stopping;

    expect(consumer.state).toBe("stopped");
    expect(started).toHaveLength(1);
    expect(again.sort((a, b) => a - b)).toEqual(ids.slice(1));
    const archived = await pool.query<{ msg_id: string }>(`select msg_id from pgmq.a_${QUEUE}`);
    expect(archived.rows.map((row) => Number(row.msg_id))).toEqual([ids[0]]);
  });

  it("hands each of 300 messages to exactly one handler", async () => {
    const seen = new Map<string, number>();
    const consumer = start(
      {
        queue: QUEUE,
        async process(message) {
          seen.set(message.idempotency_key, (seen.get(message.idempotency_key) ?? 0) + 1);
          // Some finish at once, some a little later: slots free up out of order.
          if (seen.size % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
        },
      },
      { concurrency: 8, batchSize: 32 },
    );
    const messages = Array.from({ length: 300 }, () => JSON.stringify(payment()));
    await pool.query("select pgmq.send_batch($1::text, $2::jsonb[])", [QUEUE, messages]);
    consumer.notify();

    await waitFor(async () => (await queueLength(pool, QUEUE)) === 0, {
      what: "all archived",
      timeoutMs: 20_000,
    });
    expect(seen.size).toBe(300);
    expect([...seen.values()].filter((count) => count !== 1)).toEqual([]);
    const archived = await pool.query<{ n: number }>(`select count(*)::int as n from pgmq.a_${QUEUE}`);
    expect(archived.rows[0]?.n).toBe(300);
  });

  it("keeps read-ahead messages hidden past their visibility timeout with the heartbeat", async () => {
    const { processor, open } = gatedProcessor();
    for (let i = 0; i < 3; i += 1) await sendRaw(pool, QUEUE, payment());
    const consumer = start(processor, { concurrency: 1, batchSize: 2, visibilityTimeoutSeconds: 1 });
    await waitFor(() => consumer.inFlightCount === 1 && consumer.bufferedCount === 2, {
      what: "one running and two read ahead",
    });
    // Three visibility timeouts later another reader still finds nothing.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const stolen = await pool.query(`select * from pgmq.read('${QUEUE}', 30, 3)`);
      expect(stolen.rowCount).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    open();
    await waitFor(async () => (await queueLength(pool, QUEUE)) === 0, { what: "all archived" });
  });

  it("reads first what the processor's read policy puts first", async () => {
    const order: string[] = [];
    for (let i = 0; i < 3; i += 1) await sendRaw(pool, QUEUE, payment("completed"));
    await sendRaw(pool, QUEUE, payment("failed"));
    start(
      {
        queue: QUEUE,
        readPolicy: { first: { action: "failed" } },
        async process(message) {
          order.push(message.action);
        },
      },
      { concurrency: 1, batchSize: 1 },
    );
    await waitFor(() => order.length === 4, { what: "all four handled" });
    expect(order).toEqual(["failed", "completed", "completed", "completed"]);
  });
});
