import { type ReceivedMessage, type SmtpSinkProcess, spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetters, emailMessage, queueLength } from "./support/domain.ts";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

// Two worker processes share one send budget in PostgreSQL: a provider that allows 20 messages in any
// 10 s (the sink plays it) refuses none of 100 emails, and the high-priority ones go first.

const LIMIT = 20;
const WINDOW_S = 10;
const NORMAL = 70;
const HIGH = 30;

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSinkProcess;
const workers: WorkerProcess[] = [];

async function received(): Promise<ReceivedMessage[]> {
  return (await (await fetch(`${sink.url}/messages`)).json()) as ReceivedMessage[];
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  sink = await spawnSmtpSinkProcess({ limit: `${LIMIT}/${WINDOW_S}s`, maxMessages: 500 });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await sink?.stop();
  await pool?.end();
  await db?.drop();
});

describe("the send budget across two worker processes", () => {
  it("delivers 100 emails once within 20 per 10 s, high priority first, with nothing refused", {
    timeout: 240_000,
  }, async () => {
    const normal = Array.from({ length: NORMAL }, (_, i) =>
      emailMessage(`normal${i}@example.com`, `budget:normal:${i}`, { subject: `normal ${i}` }),
    );
    const high = Array.from({ length: HIGH }, (_, i) =>
      emailMessage(`high${i}@example.com`, `budget:high:${i}`, { subject: `high ${i}`, priority: 1 }),
    );
    // The high-priority emails are the newest: reading oldest first would send them last.
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      normal.map((m) => JSON.stringify(m)),
    ]);
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      high.map((m) => JSON.stringify(m)),
    ]);

    const env = testWorkerEnv({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      env: { LOG_LEVEL: "info", SMTP_SEND_LIMIT: `${LIMIT}/${WINDOW_S}s` },
    });
    const options = { readyTimeoutMs: 60_000 };
    workers.push(
      ...(await Promise.all([spawnWorkerProcess(env, options), spawnWorkerProcess(env, options)])),
    );

    const mail = await waitFor(
      async () => {
        const messages = await received();
        return messages.length >= NORMAL + HIGH ? messages : undefined;
      },
      { what: "100 emails at the sink", timeoutMs: 100_000, intervalMs: 500 },
    ).catch(async (error: unknown) => {
      const lines = workers.flatMap((worker) =>
        worker.logs.filter((line) => line.level !== 30 || !String(line.msg).startsWith("email accepted")),
      );
      throw new Error(
        `${String(error)}; ${(await received()).length} arrived; worker logs:\n${lines.map((line) => JSON.stringify(line)).join("\n")}`,
      );
    });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });

    expect(mail).toHaveLength(NORMAL + HIGH);
    expect(new Set(mail.map((message) => message.subject)).size).toBe(NORMAL + HIGH);
    const health = (await (await fetch(`${sink.url}/healthz`)).json()) as { refused: number };
    expect(health.refused).toBe(0);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);

    // Arrival order: the first window is all high priority; the rest of them go in the next one,
    // ahead of every normal email still waiting then.
    const order = mail.map((message) => (message.subject.startsWith("high") ? "high" : "normal"));
    expect(order.slice(0, LIMIT)).toEqual(Array(LIMIT).fill("high"));
    expect(order.slice(0, 2 * LIMIT).filter((kind) => kind === "high")).toHaveLength(HIGH);

    // Both replicas sent some.
    for (const worker of workers)
      expect(worker.logs.some((line) => line.msg === "email accepted by SMTP")).toBe(true);

    // As long as the budget requires: the 81st email cannot go before 4 windows have passed.
    const times = mail.map((message) => Date.parse(message.receivedAt)).sort((a, b) => a - b);
    const first = times[0] ?? 0;
    const last = times.at(-1) ?? 0;
    expect(last - first).toBeGreaterThanOrEqual(((NORMAL + HIGH) / LIMIT - 1) * WINDOW_S * 1000);
  });
});
