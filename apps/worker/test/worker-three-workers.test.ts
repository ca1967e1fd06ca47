import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageIdFor } from "../src/email/email-processor.ts";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength } from "./support/domain.ts";
import { startTestWorker, testWorkerEnv, waitFor } from "./support/test-worker.ts";

const TO = "three@example.com";
const COUNT = 600;
const WORKERS = 3;

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
const workers: RunningWorker[] = [];

/** balansity_messages_processed_total{queue="email_queue"} from one worker's /metrics. */
async function processedEmails(worker: RunningWorker): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  const match = /^balansity_messages_processed_total\{queue="email_queue"\} (\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  smtp = await startSmtpSink({ maxMessages: 2 * COUNT });
  for (let i = 0; i < WORKERS; i += 1) {
    workers.push(await startTestWorker({ databaseUrl: db.url, smtpPort: smtp.smtpPort }));
  }
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
});

describe("three workers on one database", () => {
  it("delivers each of 600 emails exactly once and every worker takes a share", async () => {
    const keys = Array.from({ length: COUNT }, (_, i) => `three:${i}`);
    const started = performance.now();
    // Ten transactions of 60, so every worker gets woken several times, not once.
    for (let i = 0; i < COUNT; i += 60) {
      const batch = keys
        .slice(i, i + 60)
        .map((key) => JSON.stringify(emailMessage(TO, key, { subject: key })));
      await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [batch]);
    }

    await smtp.waitForMessages(COUNT, { to: TO, timeoutMs: 45_000 });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });
    const seconds = (performance.now() - started) / 1000;

    const mail = smtp.messages().filter((message) => message.envelope.to.includes(TO));
    const from = testWorkerEnv({ databaseUrl: db.url, smtpPort: smtp.smtpPort }).SMTP_FROM ?? "";
    expect(mail).toHaveLength(COUNT);
    expect(new Set(mail.map((message) => message.messageId)).size).toBe(COUNT);
    expect(new Set(mail.map((message) => message.subject))).toEqual(new Set(keys));
    expect(new Set(mail.map((message) => message.messageId))).toEqual(
      new Set(keys.map((key) => messageIdFor(key, from))),
    );
    expect(await deadLetters(pool, "email_queue")).toEqual([]);

    const perWorker = await Promise.all(workers.map(processedEmails));
    console.info(
      `[three-workers] ${COUNT} emails in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s); ` +
        `processed per worker: ${perWorker.join(", ")}`,
    );
    expect(perWorker.every((count) => count > 0)).toBe(true);
    expect(perWorker.reduce((sum, count) => sum + count, 0)).toBe(COUNT);
  });
});
