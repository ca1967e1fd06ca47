import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetters, emailMessage, queueLength } from "./support/domain.ts";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

const TO = "crash@example.com";
const COUNT = 300;
const KILL_AFTER = 50;
/** The email queue's default concurrency: at most this many sends can be cut off by one crash. */
const EMAIL_CONCURRENCY = 32;

let db: TestDatabase;
let pool: pg.Pool;
let sink: SinkProcess | undefined;
const workers: WorkerProcess[] = [];

interface SinkMessage {
  readonly messageId: string | null;
  readonly subject: string;
}

async function arrivedCount(): Promise<number> {
  const response = await fetch(`${sink!.url}/healthz`);
  return ((await response.json()) as { messages: number }).messages;
}

async function sinkMessages(): Promise<SinkMessage[]> {
  const response = await fetch(`${sink!.url}/messages?to=${encodeURIComponent(TO)}`);
  if (!response.ok) throw new Error(`GET /messages answered ${response.status}`);
  return (await response.json()) as SinkMessage[];
}

function workerEnv(smtpPort: number): Record<string, string> {
  return {
    ...testWorkerEnv({ databaseUrl: db.url, smtpPort }),
    QUEUE_EMAIL_QUEUE_VT_SECONDS: "3",
    LOG_LEVEL: "info",
  };
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  sink = await spawnSmtpSinkProcess({ maxMessages: 2 * COUNT });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  await sink?.kill();
  await pool?.end();
  await db?.drop();
});

describe("worker killed mid-batch", () => {
  it("loses no email when SIGKILLed, and every duplicate is one whose send was cut off", async () => {
    const smtpPort = sink!.smtpPort;
    const first = await spawnWorkerProcess(workerEnv(smtpPort));
    workers.push(first);

    const keys = Array.from({ length: COUNT }, (_, i) => `crash:${i}`);
    const messages = keys.map((key) => JSON.stringify(emailMessage(TO, key, { subject: key })));
    const started = performance.now();
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [messages]);

    await waitFor(async () => (await arrivedCount()) >= KILL_AFTER, {
      timeoutMs: 20_000,
      intervalMs: 10,
      what: `${KILL_AFTER} emails before the crash`,
    });
    const killedAt = performance.now();
    const killed = await first.kill("SIGKILL");
    const arrivedAtKill = await arrivedCount();
    expect(killed.signal).toBe("SIGKILL");
    const inFlight = await pool.query<{ n: number }>(
      "select count(*)::int as n from automation.email_deliveries where status = 'sending'",
    );
    // It died with work in hand, not between batches.
    expect(inFlight.rows[0]!.n).toBeGreaterThan(0);
    expect(arrivedAtKill).toBeLessThan(COUNT);

    const second = await spawnWorkerProcess(workerEnv(smtpPort));
    workers.push(second);
    const secondStarted = performance.now();

    const arrived = await waitFor(
      async () => {
        if ((await arrivedCount()) < COUNT) return undefined;
        const all = await sinkMessages();
        return new Set(all.map((message) => message.subject)).size === COUNT ? all : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200, what: `all ${COUNT} idempotency keys delivered` },
    );
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    const finished = performance.now();
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

    // No loss: every key arrived at least once, nothing is left or dead-lettered.
    const final = await sinkMessages();
    const perKey = new Map<string, number>();
    for (const message of final) perKey.set(message.subject, (perKey.get(message.subject) ?? 0) + 1);
    expect([...perKey.keys()].sort()).toEqual([...keys].sort());
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
    // A duplicate carries the same Message-ID (it is derived from the key), so the mailbox can fold it.
    expect(new Set(final.map((message) => message.messageId)).size).toBe(COUNT);

    // Duplicates: bounded by what one crash can cut off, and each explained by a second attempt.
    const duplicateKeys = [...perKey].filter(([, count]) => count > 1).map(([key]) => key);
    const duplicates = final.length - perKey.size;
    const attempts = await pool.query<{ idempotency_key: string; attempts: number; status: string }>(
      "select idempotency_key, attempts, status from automation.email_deliveries where idempotency_key = any($1)",
      [keys],
    );
    const attemptsByKey = new Map(attempts.rows.map((row) => [row.idempotency_key, row.attempts]));
    const unexplained = duplicateKeys.filter((key) => (attemptsByKey.get(key) ?? 0) < 2);
    const retried = attempts.rows.filter((row) => row.attempts >= 2).length;
    console.info(
      `[worker-killed] ${COUNT} emails in ${seconds(finished - started)} (SIGKILL at ${seconds(killedAt - started)}, ` +
        `second worker ready ${seconds(secondStarted - killedAt)} later, done ${seconds(finished - secondStarted)} after that); ` +
        `SIGKILL after ${arrivedAtKill} arrivals ` +
        `with ${inFlight.rows[0]!.n} sends in flight; ${final.length} arrivals, ${perKey.size} unique keys, ` +
        `${duplicates} duplicate(s) (${duplicateKeys.length} key(s)); ${retried} key(s) claimed twice or more`,
    );
    expect(attempts.rows.every((row) => row.status === "sent")).toBe(true);
    expect(duplicates).toBeLessThanOrEqual(EMAIL_CONCURRENCY);
    expect(unexplained).toEqual([]);
    expect(arrived.length).toBeGreaterThanOrEqual(COUNT);

    // The survivor, unlike its predecessor, is stopped the polite way and exits cleanly.
    const stopped = await second.stop();
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(second.logs.some((line) => line.msg === "worker stopped")).toBe(true);
  });
});
