import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { deadLetterSchema } from "@balansity/queues";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "../src/consumer/errors.ts";
import type { Processor } from "../src/consumer/processor.ts";
import type { QueueConsumer } from "../src/consumer/queue-consumer.ts";
import { consumerFor } from "./support/consumer-harness.ts";
import { deadLetters, queueLength, sendRaw } from "./support/domain.ts";
import { waitFor } from "./support/wait-for.ts";

let db: TestDatabase;
let pool: pg.Pool;
let running: QueueConsumer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});
beforeEach(async () => {
  await pool.query(
    "select pgmq.purge_queue('payment_processing_queue'), pgmq.purge_queue('payment_processing_queue_dlq')",
  );
});
afterEach(async () => {
  await Promise.all(running.map((consumer) => consumer.stop(1000)));
  running = [];
});

const payment = (action = "verify") => ({
  version: 1,
  idempotency_key: randomUUID(),
  payment_id: randomUUID(),
  action,
});

function start(
  processor: Processor<"payment_processing_queue">,
  settings = {},
  options: Parameters<typeof consumerFor>[3] = {},
) {
  const { consumer, metrics } = consumerFor(pool, processor, settings, options);
  consumer.start();
  running.push(consumer);
  return { consumer, metrics };
}

const dlq = () => deadLetters(pool, "payment_processing_queue");

describe("QueueConsumer", () => {
  it("sends a message that fails its schema to the dead-letter queue at once, naming the field", async () => {
    let calls = 0;
    start({ queue: "payment_processing_queue", process: async () => void calls++ });
    await sendRaw(pool, "payment_processing_queue", { ...payment(), action: "refund_everything" });

    const [letter] = await waitFor(async () => ((await dlq()).length ? dlq() : undefined), {
      what: "dead letter",
    });
    const parsed = deadLetterSchema.parse(letter);
    expect(parsed.error.code).toBe("invalid_message");
    expect(parsed.error.message).toContain('"action"');
    expect(parsed.attempts).toBe(1);
    expect(calls).toBe(0);
    expect(await queueLength(pool, "payment_processing_queue")).toBe(0);
  });

  it("dead-letters a PermanentError on the first attempt with its code", async () => {
    start({
      queue: "payment_processing_queue",
      process: async () => {
        throw new PermanentError("payment_not_found", "no such payment");
      },
    });
    await sendRaw(pool, "payment_processing_queue", payment());
    const [letter] = await waitFor(async () => ((await dlq()).length ? dlq() : undefined), {
      what: "dead letter",
    });
    expect(deadLetterSchema.parse(letter).error).toEqual({
      code: "payment_not_found",
      message: "no such payment",
    });
  });

  it("retries a failing message with backoff and dead-letters it after the last attempt", async () => {
    const attempts: number[] = [];
    const { metrics } = start(
      {
        queue: "payment_processing_queue",
        process: async (_message, context) => {
          attempts.push(context.attempt);
          throw new RetryableError("provider_unavailable", "provider answered 503");
        },
      },
      { maxAttempts: 3 },
    );
    await sendRaw(pool, "payment_processing_queue", payment());
    const [letter] = await waitFor(async () => ((await dlq()).length ? dlq() : undefined), {
      what: "dead letter",
      timeoutMs: 15_000,
    });
    expect(attempts).toEqual([1, 2, 3]);
    const parsed = deadLetterSchema.parse(letter);
    expect(parsed.error.code).toBe("provider_unavailable");
    expect(parsed.error.message).toContain("gave up after 3 attempts");
    expect(parsed.attempts).toBe(3);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/balansity_messages_retried_total\{queue="payment_processing_queue"\} 2/);
    expect(text).toMatch(
      /balansity_messages_dead_lettered_total\{queue="payment_processing_queue",code="provider_unavailable"\} 1/,
    );
  });

  it("dead-letters a message read more often than allowed since its recorded first read (a worker died on it)", async () => {
    let calls = 0;
    const id = await sendRaw(pool, "payment_processing_queue", payment());
    // A worker's first read was recorded (it read the message before), then it was read twice more.
    await pool.query(
      "select * from public.pgmq_first_reads('payment_processing_queue', array[$1::bigint], array[1])",
      [id],
    );
    await pool.query("update pgmq.q_payment_processing_queue set read_ct = 3 where msg_id = $1", [id]);
    start({ queue: "payment_processing_queue", process: async () => void calls++ }, { maxAttempts: 3 });
    const [letter] = await waitFor(async () => ((await dlq()).length ? dlq() : undefined), {
      what: "dead letter",
    });
    expect(deadLetterSchema.parse(letter).error.code).toBe("max_attempts_exceeded");
    expect(calls).toBe(0);
  });

  it("does not count reads by an earlier consumer as attempts, and counts its own from its first read", async () => {
    const seen: number[] = [];
    const id = await sendRaw(pool, "payment_processing_queue", payment());
    // Read three times by someone else (a seed-era Edge Function, a read by hand).
    for (let read = 0; read < 3; read += 1)
      await pool.query("select * from pgmq.read('payment_processing_queue', 0, 1)");
    start(
      {
        queue: "payment_processing_queue",
        process: async (_message, context) => {
          seen.push(context.attempt);
          if (context.attempt < 2) throw new Error("not yet");
        },
      },
      { maxAttempts: 2 },
    );
    await waitFor(async () => (await queueLength(pool, "payment_processing_queue")) === 0, {
      what: "archived",
      timeoutMs: 20_000,
    });
    expect(seen).toEqual([1, 2]);
    expect(await dlq()).toHaveLength(0);
    const { rows } = await pool.query(
      "select first_read from automation.consumer_first_reads where queue_name = 'payment_processing_queue' and msg_id = $1",
      [id],
    );
    expect(rows).toEqual([{ first_read: 4 }]);
  });

  it("keeps a slow message invisible past its visibility timeout with a heartbeat", async () => {
    let release: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    start(
      {
        queue: "payment_processing_queue",
        process: async () => {
          started = true;
          await finished;
        },
      },
      { visibilityTimeoutSeconds: 1 },
    );
    await sendRaw(pool, "payment_processing_queue", payment());
    await waitFor(() => started, { what: "handler start" });
    // Three visibility timeouts later another reader still cannot take it.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const stolen = await pool.query("select * from pgmq.read('payment_processing_queue', 30, 1)");
      expect(stolen.rowCount).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    release();
    await waitFor(async () => (await queueLength(pool, "payment_processing_queue")) === 0, {
      what: "archived",
    });
    const archived = await pool.query("select count(*)::int as n from pgmq.a_payment_processing_queue");
    expect(archived.rows[0]?.n).toBeGreaterThan(0);
  });

  it("on stop, finishes quick work, then releases unfinished messages at the deadline", async () => {
    const quick = payment("completed");
    const slow = payment("verify");
    const { consumer } = start({
      queue: "payment_processing_queue",
      process: async (message, context) => {
        if (message.action === "completed") return;
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
      },
    });
    const quickId = await sendRaw(pool, "payment_processing_queue", quick);
    const slowId = await sendRaw(pool, "payment_processing_queue", slow);
    await waitFor(async () => consumer.inFlightCount === 1, { what: "slow message in flight" });
    running = running.filter((entry) => entry !== consumer);
    await consumer.stop(300);

    expect(consumer.state).toBe("stopped");
    const archived = await pool.query(
      "select msg_id from pgmq.a_payment_processing_queue where msg_id = $1",
      [quickId],
    );
    expect(archived.rowCount).toBe(1);
    // Released: visible again right away for another worker.
    const again = await pool.query<{ msg_id: string }>(
      "select msg_id from pgmq.read('payment_processing_queue', 30, 5)",
    );
    expect(again.rows.map((row) => Number(row.msg_id))).toEqual([slowId]);
  });

  it("keeps a NOTIFY that arrives while a read is running, instead of sleeping a whole poll interval", async () => {
    // The first read is held after it ran: a message committed meanwhile is invisible to it.
    let release: () => void = () => undefined;
    let held = false;
    const gate = {
      query: async (text: string, values?: unknown[]) => {
        const result = await pool.query(text, values);
        if (!held && text.includes("pgmq.read(")) {
          held = true;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
        return result;
      },
    };
    const seen: string[] = [];
    const { consumer } = start(
      {
        queue: "payment_processing_queue",
        process: async (message) => void seen.push(message.idempotency_key),
      },
      {},
      { db: gate, pollIntervalMs: 60_000 },
    );
    await waitFor(() => held, { what: "the first read to be held" });
    const message = payment("completed");
    await sendRaw(pool, "payment_processing_queue", message);
    consumer.notify();
    release();
    await waitFor(() => seen.includes(message.idempotency_key), { what: "the message", timeoutMs: 3000 });
  });
});
