import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// A provider that throttles is not failing our messages: the queue pauses and every email goes once
// the window opens, with no attempt spent — the worker allows ONE attempt per message here, so a
// throttle reply counted as one would dead-letter the email.

let db: TestDatabase;
let pool: pg.Pool;
const sinks: SmtpSink[] = [];
const workers: RunningWorker[] = [];

const ONE_ATTEMPT = { QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1", SMTP_THROTTLE_MAX_PAUSE_SECONDS: "4" };

/** read_ct of archived emails, by idempotency key: 1 when no read was spent on a throttle reply. */
async function archivedReads(keys: readonly string[]): Promise<number[]> {
  const { rows } = await pool.query<{ read_ct: number }>(
    "select read_ct from pgmq.a_email_queue where message->>'idempotency_key' = any($1) order by msg_id",
    [keys],
  );
  return rows.map((row) => row.read_ct);
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await Promise.all(sinks.map((sink) => sink.stop()));
  await pool?.end();
  await db?.drop();
});

describe("SMTP throttling replies", () => {
  it.each([
    ["temporary", 421, "4.7.0 Too many connections, try again later"],
    ["temporary", 450, "4.2.1 Mailbox busy, try again later"],
    ["temporary", 451, "4.7.1 Too many messages, try again later"],
    ["temporary", 452, "4.5.3 Too many recipients"],
    ["permanent", 550, "5.7.1 Message rate limit exceeded"],
    ["permanent", 554, "5.7.0 Too many messages from this mailbox"],
  ] as const)(
    "pauses on %s %i %s and sends the email once, without spending its attempt",
    async (kind, code, text) => {
      const sink = await startSmtpSink();
      sinks.push(sink);
      const worker = await startTestWorker({
        databaseUrl: db.url,
        smtpPort: sink.smtpPort,
        env: ONE_ATTEMPT,
      });
      workers.push(worker);
      sink.setFailureMode({ kind, code, message: text, remaining: 2 } as never);
      const key = `throttle:${code}:${text}`;
      await sendRaw(pool, "email_queue", emailMessage(`throttled${code}@example.com`, key, { subject: key }));

      await sink.waitForMessages(1, { timeoutMs: 30_000 });
      await waitFor(async () => (await archivedReads([key])).length === 1, { what: "the email archived" });

      expect(sink.messages().map((message) => message.subject)).toEqual([key]);
      expect(await archivedReads([key])).toEqual([1]);
      expect(await deadLetters(pool, "email_queue")).toEqual([]);
      const { rows } = await pool.query(
        "select status from automation.email_deliveries where idempotency_key = $1",
        [key],
      );
      expect(rows).toEqual([{ status: "sent" }]);
      await worker.stop();
      await sink.stop();
    },
  );

  it("delivers every email once when the server throttles with 451 4.7.1 past 20 per 10 s", async () => {
    const sink = await startSmtpSink({ limit: { count: 20, windowMs: 10_000 } });
    sinks.push(sink);
    const keys = Array.from({ length: 50 }, (_, i) => `throttle:window:${i}`);
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      keys.map((key) => JSON.stringify(emailMessage("window@example.com", key, { subject: key }))),
    ]);
    workers.push(await startTestWorker({ databaseUrl: db.url, smtpPort: sink.smtpPort, env: ONE_ATTEMPT }));

    await sink.waitForMessages(keys.length, { to: "window@example.com", timeoutMs: 90_000 });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });

    const subjects = sink.messages().map((message) => message.subject);
    expect(subjects).toHaveLength(keys.length);
    expect(new Set(subjects)).toEqual(new Set(keys));
    // The server did throttle, and no reply it gave spent an attempt: each email was read once.
    expect(sink.refusedCount()).toBeGreaterThan(0);
    expect(await archivedReads(keys)).toEqual(keys.map(() => 1));
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});
