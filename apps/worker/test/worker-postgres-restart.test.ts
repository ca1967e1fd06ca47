import { applyMigrations, installPlatform, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageIdFor } from "../src/email/email-processor.ts";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { ownPostgres, type Postgres } from "./support/own-postgres.ts";
import { readiness, startTestWorker, testWorkerEnv, waitFor } from "./support/test-worker.ts";

const TO = "restart@example.com";
const BATCH = 50;
/** Only NOTIFY (or the notifier's reconnect) can wake the consumers within a test's time. */
const POLL_INTERVAL_MS = "60000";

// A cluster of its own: stopping it must not take the other test files' databases away.
const own = ownPostgres("restart");

let postgres: Postgres | undefined;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;
let from: string;

/** One message per transaction, as the database triggers send them: one NOTIFY each. */
async function enqueue(keys: readonly string[]): Promise<void> {
  for (const key of keys) await sendRaw(pool, "email_queue", emailMessage(TO, key, { subject: key }));
}

async function waitForDelivered(keys: readonly string[], timeoutMs: number) {
  const wanted = new Set(keys);
  return waitFor(
    () => {
      const arrived = smtp.messages().filter((message) => wanted.has(message.subject));
      return new Set(arrived.map((message) => message.subject)).size === wanted.size ? arrived : undefined;
    },
    { timeoutMs, what: `${keys.length} emails (${keys[0]} …)` },
  );
}

beforeAll(async () => {
  postgres = await own.start(0);
  const url = postgres.cluster.adminUrl;
  await installPlatform(url);
  await applyMigrations(url);
  // Our own connections die with the server too; the pool must not crash the test on that.
  pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => undefined);
  smtp = await startSmtpSink();
  const env = { WORKER_POLL_INTERVAL_MS: POLL_INTERVAL_MS };
  from = testWorkerEnv({ databaseUrl: url, smtpPort: smtp.smtpPort, env }).SMTP_FROM ?? "";
  worker = await startTestWorker({ databaseUrl: url, smtpPort: smtp.smtpPort, env });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await pool?.end();
  await postgres?.cluster.stop();
  own.remove();
});

describe("PostgreSQL restarts under the worker", () => {
  const before = Array.from({ length: BATCH }, (_, i) => `restart:before:${i}`);
  const after = Array.from({ length: BATCH }, (_, i) => `restart:after:${i}`);

  it("delivers what was queued before the restart", async () => {
    await enqueue(before);
    await waitForDelivered(before, 15_000);
    // Archived, so nothing of it is in flight when the server goes away.
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
  });

  it("reports the database as not ready while the server is down", async () => {
    const stoppedAt = performance.now();
    await postgres!.cluster.stop();
    const down = await waitFor(
      async () => {
        const ready = await readiness(worker!.url);
        return ready.status === 503 && ready.failing.includes("database") ? ready : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: "/readyz 503 with database failing" },
    );
    console.info(
      `[postgres-restart] /readyz 503 ${Math.round(performance.now() - stoppedAt)} ms after the stop: ${JSON.stringify(down)}`,
    );
  });

  it("after the restart on the same port delivers new and old emails exactly once and is ready again", async () => {
    const port = postgres!.cluster.port;
    const restartedAt = performance.now();
    postgres = await own.start(port);
    expect(postgres.cluster.created).toBe(false);
    expect(postgres.cluster.port).toBe(port);

    await enqueue(after);
    await waitForDelivered(after, 40_000);
    const deliveredIn = performance.now() - restartedAt;
    await waitFor(async () => (await readiness(worker!.url)).status === 200, {
      timeoutMs: 40_000,
      intervalMs: 100,
      what: "/readyz 200 after the restart",
    });
    console.info(
      `[postgres-restart] ${BATCH} new emails delivered ${Math.round(deliveredIn)} ms after the restart began; ` +
        `ready again after ${Math.round(performance.now() - restartedAt)} ms`,
    );
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });

    const all = [...before, ...after];
    const mail = smtp.messages().filter((message) => message.envelope.to.includes(TO));
    expect(mail).toHaveLength(all.length);
    expect(new Set(mail.map((message) => message.subject))).toEqual(new Set(all));
    expect(new Set(mail.map((message) => message.messageId))).toEqual(
      new Set(all.map((key) => messageIdFor(key, from))),
    );
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });

  it("listens again: a new email arrives at once although the poll interval is a minute", async () => {
    // Readiness includes the notification connection, so LISTEN is back before this email is sent.
    expect(await readiness(worker!.url)).toEqual({ status: 200, failing: [] });
    const key = "restart:listen";
    const sentAt = performance.now();
    await enqueue([key]);
    await waitForDelivered([key], 2_000);
    console.info(
      `[postgres-restart] email after reconnect delivered in ${Math.round(performance.now() - sentAt)} ms`,
    );
  });
});
