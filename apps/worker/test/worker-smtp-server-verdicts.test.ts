/**
 * Which SMTP failures are the server's (pause the queue, spend no attempt, dead-letter nothing) and
 * which are the message's (spend an attempt each). Every worker here allows ONE attempt per email, so
 * a failure wrongly counted as the message's dead-letters it at once, and a 4xx wrongly taken for an
 * outage never reaches the dead-letter queue.
 */
import { randomBytes } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { readiness, startTestWorker, waitFor } from "./support/test-worker.ts";

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSink | undefined;
let worker: RunningWorker | undefined;

const ONE_ATTEMPT = { QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1", WORKER_PROBE_MAX_INTERVAL_MS: "300" };

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
});
afterEach(async () => {
  await worker?.stop();
  await sink?.stop();
  worker = undefined;
  sink = undefined;
  await pool.query("delete from pgmq.q_email_queue_dlq");
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function waitUntilPaused(): Promise<void> {
  await waitFor(async () => (await readiness(worker!.url)).failing.includes("paused:smtp"), {
    timeoutMs: 15_000,
    what: "the email queue paused behind the SMTP breaker",
  });
}

async function sentCount(key: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from automation.email_deliveries where idempotency_key = $1 and status = 'sent'",
    [key],
  );
  return rows[0]?.n ?? 0;
}

describe("SMTP failures of the server, not the message", () => {
  it("pauses on an authentication failure (EAUTH), spends no attempt, and sends once the credentials work", async () => {
    // Credentials made at run time; the worker is given a wrong password first.
    const user = "balansity-worker";
    const pass = randomBytes(12).toString("hex");
    sink = await startSmtpSink({ smtpPort: 0, httpPort: 0, auth: { user, pass: `${pass}-old` } });
    const port = sink.smtpPort;
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: port,
      random: () => 0,
      env: { ...ONE_ATTEMPT, SMTP_USER: user, SMTP_PASS: pass },
    });
    const key = "verdict:eauth";
    await sendRaw(pool, "email_queue", emailMessage("eauth@example.com", key, { subject: key }));

    await waitUntilPaused();
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
    expect(await sentCount(key)).toBe(0);

    // The operator fixes the server's credentials: the paused queue drains, nothing dead-lettered.
    await sink.stop();
    sink = await startSmtpSink({ smtpPort: port, httpPort: 0, auth: { user, pass } });
    await sink.waitForMessages(1, { timeoutMs: 20_000, to: "eauth@example.com" });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    expect(await sentCount(key)).toBe(1);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });

  it("pauses on 421 (service not available), spends no attempt, and sends once the server accepts", async () => {
    sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    sink.setFailureMode({ kind: "temporary", code: 421 });
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      random: () => 0,
      env: ONE_ATTEMPT,
    });
    const key = "verdict:421";
    await sendRaw(pool, "email_queue", emailMessage("busy@example.com", key, { subject: key }));

    await waitUntilPaused();
    // Let the breaker probe and retry a few times: still no attempt spent, nothing dead-lettered.
    await waitFor(
      async () => {
        const { rows: again } = await pool.query<{ claims: number }>(
          "select attempts as claims from automation.email_deliveries where idempotency_key = $1",
          [key],
        );
        return (again[0]?.claims ?? 0) >= 3;
      },
      { timeoutMs: 20_000, what: "three tries of the email while the server answers 421" },
    );
    expect(await deadLetters(pool, "email_queue")).toEqual([]);

    sink.setFailureMode({ kind: "none" });
    await sink.waitForMessages(1, { timeoutMs: 20_000, to: "busy@example.com" });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    expect(await sentCount(key)).toBe(1);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});

describe("SMTP failures of the message", () => {
  it("spends an attempt on a 4xx that is neither a throttle nor an outage (454): with one attempt, dead-lettered as a temporary failure, the queue never paused", async () => {
    sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    sink.setFailureMode({ kind: "temporary", code: 454 });
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      random: () => 0,
      env: ONE_ATTEMPT,
    });
    const key = "verdict:454";
    await sendRaw(pool, "email_queue", emailMessage("later@example.com", key, { subject: key }));

    const [dead] = await waitFor(
      async () => {
        const letters = (await deadLetters(pool, "email_queue")) as Array<{
          error: { code: string; message: string };
          message: { idempotency_key: string };
        }>;
        const mine = letters.filter((letter) => letter.message.idempotency_key === key);
        return mine.length > 0 ? mine : undefined;
      },
      { timeoutMs: 20_000, what: "the 454 email in the dead-letter queue" },
    );
    expect(dead?.error.code).toBe("smtp_temporary_failure");
    expect(dead?.error.message).toContain("SMTP 454");
    expect((await readiness(worker.url)).failing).not.toContain("paused:smtp");
    expect(sink.messages()).toHaveLength(0);
  });
});
