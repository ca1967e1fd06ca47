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
  it("retries every email while the server is away and delivers each exactly once when it is back", async () => {
    const first = await spawnSmtpSinkProcess();
    sinks.push(first);
    const port = first.smtpPort;
    // random: () => 0 → backoff 1 s, 2 s, 4 s … (base 2 s, lower half of the equal jitter).
    worker = await startTestWorker({ databaseUrl: db.url, smtpPort: port, random: () => 0 });

    // Warm up: a pooled SMTP connection exists when the server dies.
    await sendRaw(pool, "email_queue", emailMessage("warmup@example.com", "outage:warmup"));
    await waitFor(async () => (await sinkMessages(first, "warmup@example.com")).length === 1, {
      what: "the warm-up email",
    });

    await first.kill();
    const keys = Array.from({ length: COUNT }, (_, i) => `outage:${i}`);
    for (const key of keys) await sendRaw(pool, "email_queue", emailMessage(TO, key, { subject: key }));

    // Each was tried, failed on the refused connection, and was read again after its backoff.
    await waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          "select count(*)::int as n from pgmq.q_email_queue where read_ct >= 2",
        );
        return rows[0]!.n === COUNT;
      },
      { timeoutMs: 15_000, what: `all ${COUNT} messages read at least twice` },
    );
    // Tried, but none recorded as sent: the retries will send, not skip.
    const tried = await pool.query<{ claimed: number; sent: number }>(
      `select count(*)::int as claimed, count(*) filter (where status = 'sent')::int as sent
         from automation.email_deliveries where idempotency_key = any($1)`,
      [keys],
    );
    expect(tried.rows[0]).toEqual({ claimed: COUNT, sent: 0 });

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

    const deliveries = await pool.query<{ status: string; attempts: number }>(
      "select status, attempts from automation.email_deliveries where idempotency_key = any($1)",
      [keys],
    );
    expect(deliveries.rows).toHaveLength(COUNT);
    expect(deliveries.rows.every((row) => row.status === "sent" && row.attempts >= 2)).toBe(true);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});
