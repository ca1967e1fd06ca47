import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageIdFor } from "../src/email/email-processor.ts";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { startTestWorker, testWorkerEnv, waitFor } from "./support/test-worker.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

const FROM = testWorkerEnv({ databaseUrl: "", smtpPort: 0 }).SMTP_FROM ?? "";
const TO = "outage@example.com";
const COUNT = 20;

let db: TestDatabase;
let pool: pg.Pool;
let worker: RunningWorker | undefined;
const sinks: SinkProcess[] = [];

interface SinkMessage {
  readonly messageId: string | null;
  readonly subject: string;
}

async function sinkMessages(sink: SinkProcess, to: string): Promise<SinkMessage[]> {
  const response = await fetch(`${sink.url}/messages?to=${encodeURIComponent(to)}`);
  if (!response.ok) throw new Error(`GET /messages answered ${response.status}`);
  return (await response.json()) as SinkMessage[];
}

/** Counts of each value, so "exactly once" is checked per key, not only in total. */
function tally(values: readonly (string | null)[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  // `drop database … with (force)` can reach a connection the pool is still closing.
  pool.on("error", () => undefined);
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(sinks.map((sink) => sink.kill()));
  await pool?.end();
  await db?.drop();
});

describe("SMTP down, then up again", () => {
  it("holds every email while the server is away, spending none of their attempts, and delivers each exactly once when it is back", async () => {
    const first = await spawnSmtpSinkProcess();
    sinks.push(first);
    const port = first.smtpPort;
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: port,
      random: () => 0,
      // One attempt per email: an outage that spent attempts would dead-letter every email it met.
      env: { WORKER_PROBE_MAX_INTERVAL_MS: "500", QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1" },
    });

    // Warm up: a pooled SMTP connection exists when the server dies.
    await sendRaw(pool, "email_queue", emailMessage("warmup@example.com", "outage:warmup"));
    await waitFor(async () => (await sinkMessages(first, "warmup@example.com")).length === 1, {
      what: "the warm-up email",
    });

    await first.kill();
    const keys = Array.from({ length: COUNT }, (_, i) => `outage:${i}`);
    for (const key of keys) await sendRaw(pool, "email_queue", emailMessage(TO, key, { subject: key }));

    // The refused connection pauses the queue (it does not burn attempts): /readyz says so.
    await waitFor(
      async () => {
        const response = await fetch(`${worker!.url}/readyz`);
        const body = (await response.json()) as { failing: string[] };
        return response.status === 503 && body.failing.includes("paused:smtp");
      },
      { timeoutMs: 15_000, what: "the email queue paused behind the SMTP breaker" },
    );
    // Nothing recorded as sent: the emails will be sent when SMTP is back, not skipped.
    const tried = await pool.query<{ sent: number }>(
      `select count(*) filter (where status = 'sent')::int as sent
         from automation.email_deliveries where idempotency_key = any($1)`,
      [keys],
    );
    expect(tried.rows[0]).toEqual({ sent: 0 });

    const second = await spawnSmtpSinkProcess({ smtpPort: port });
    sinks.push(second);
    const started = performance.now();
    const arrived = await waitFor(
      async () => {
        const messages = await sinkMessages(second, TO);
        return messages.length >= COUNT ? messages : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `${COUNT} emails after SMTP came back` },
    );
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    console.info(
      `[smtp-outage] ${COUNT} emails delivered ${Math.round(performance.now() - started)} ms after SMTP came back`,
    );

    // Nothing more trickles in once the queue is empty.
    const messages = await sinkMessages(second, TO);
    expect(messages).toHaveLength(arrived.length);
    expect(messages).toHaveLength(COUNT);

    const byMessageId = tally(messages.map((message) => message.messageId));
    expect([...byMessageId.keys()].sort()).toEqual(keys.map((key) => messageIdFor(key, FROM)).sort());
    expect([...byMessageId.values()].every((count) => count === 1)).toBe(true);
    const byKey = tally(messages.map((message) => message.subject));
    expect([...byKey.keys()].sort()).toEqual([...keys].sort());
    expect([...byKey.values()].every((count) => count === 1)).toBe(true);

    const deliveries = await pool.query<{ status: string }>(
      "select status from automation.email_deliveries where idempotency_key = any($1)",
      [keys],
    );
    expect(deliveries.rows).toHaveLength(COUNT);
    expect(deliveries.rows.every((row) => row.status === "sent")).toBe(true);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});
