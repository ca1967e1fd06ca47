import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { readiness, startTestWorker, waitFor } from "./support/test-worker.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

const TO = "long-outage@example.com";
const COUNT = 30;
const MAX_ATTEMPTS = 3;
// With random 0 the retries come after 1 s and 2 s: the whole schedule is spent in about 3 s, so an
// outage of 8 s would dead-letter everything if failed connections counted as attempts.
const OUTAGE_MS = 8_000;

let db: TestDatabase;
let pool: pg.Pool;
let worker: RunningWorker | undefined;
const sinks: SinkProcess[] = [];

async function sinkSubjects(sink: SinkProcess): Promise<string[]> {
  const response = await fetch(`${sink.url}/messages?to=${encodeURIComponent(TO)}`);
  if (!response.ok) throw new Error(`GET /messages answered ${response.status}`);
  return ((await response.json()) as { subject: string }[]).map((message) => message.subject);
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(sinks.map((sink) => sink.kill()));
  await pool?.end();
  await db?.drop();
});

describe("an SMTP outage longer than the whole retry schedule", () => {
  it("pauses the email queue instead of spending attempts, then delivers every email exactly once", async () => {
    const first = await spawnSmtpSinkProcess();
    sinks.push(first);
    const port = first.smtpPort;
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: port,
      random: () => 0,
      env: { QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: String(MAX_ATTEMPTS), WORKER_PROBE_MAX_INTERVAL_MS: "1000" },
    });
    await sendRaw(pool, "email_queue", emailMessage("warmup@example.com", "long-outage:warmup"));
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, { what: "the warm-up email" });

    await first.kill();
    const keys = Array.from({ length: COUNT }, (_, i) => `long-outage:${i}`);
    for (const key of keys) await sendRaw(pool, "email_queue", emailMessage(TO, key, { subject: key }));

    // The pause shows in /readyz and in the metrics.
    const paused = await waitFor(
      async () => {
        const ready = await readiness(worker!.url);
        return ready.status === 503 && ready.failing.includes("paused:smtp") ? ready : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: "/readyz 503 with paused:smtp" },
    );
    expect(paused.failing).toContain("paused:smtp");
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).toMatch(/balansity_transport_paused\{transport="smtp"\} 1/);

    // The outage itself: longer than every retry the queue would allow a failing message.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
    const { rows } = await pool.query<{ max: number | null }>(
      "select max(read_ct)::int as max from pgmq.q_email_queue",
    );
    // Read at most once or twice (the read that met the outage), not once per probe.
    expect(rows[0]!.max ?? 0).toBeLessThanOrEqual(2);

    const second = await spawnSmtpSinkProcess({ smtpPort: port });
    sinks.push(second);
    const backAt = performance.now();
    await waitFor(async () => (await sinkSubjects(second)).length >= COUNT, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: `${COUNT} emails after SMTP came back`,
    });
    const resumedMs = Math.round(performance.now() - backAt);
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    console.info(`[smtp-long-outage] ${COUNT} emails delivered ${resumedMs} ms after SMTP came back`);

    const subjects = await sinkSubjects(second);
    expect(subjects.sort()).toEqual([...keys].sort());
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
    await waitFor(async () => (await readiness(worker!.url)).status === 200, { what: "/readyz 200 again" });
  });
});
