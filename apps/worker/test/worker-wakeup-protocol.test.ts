import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { emailMessage, sendRaw } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// The worker takes part in 038's wake-up protocol: busy while it drains (producers skip their
// NOTIFY), waiting when idle (producers notify). With a poll interval of a minute, only the protocol
// and NOTIFY can get these emails out within the test's time: none may be stranded.

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;

async function consumerStates(): Promise<Array<{ queue_name: string; state: string }>> {
  const { rows } = await pool.query<{ queue_name: string; state: string }>(
    "select queue_name, state from automation.queue_consumers where expires_at > now() order by queue_name",
  );
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  smtp = await startSmtpSink();
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    env: { WORKER_POLL_INTERVAL_MS: "60000" },
  });
  await worker.started;
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
});

describe("the worker in the wake-up protocol", () => {
  it("strands nothing: emails sent one transaction at a time, some while it is busy, all arrive", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `wakeup:${i}`);
    await Promise.all(
      [0, 1, 2].map(async (lane) => {
        for (const key of keys.filter((_, i) => i % 3 === lane))
          await sendRaw(pool, "email_queue", emailMessage("wakeup@example.com", key, { subject: key }));
      }),
    );
    await waitFor(() => smtp.messages().length >= keys.length, {
      timeoutMs: 20_000,
      what: "60 emails with a one-minute poll interval",
    });
    expect(new Set(smtp.messages().map((message) => message.subject))).toEqual(new Set(keys));
  });

  it("is registered as waiting once idle, so the next producer notifies", async () => {
    await waitFor(async () => (await consumerStates()).some((row) => row.queue_name === "email_queue"), {
      what: "the email consumer registered",
    });
    const email = (await consumerStates()).filter((row) => row.queue_name === "email_queue");
    expect(email).toEqual([{ queue_name: "email_queue", state: "waiting" }]);
    const before = smtp.messages().length;
    await sendRaw(pool, "email_queue", emailMessage("wakeup@example.com", "wakeup:after-idle"));
    await waitFor(() => smtp.messages().length === before + 1, { what: "the email after idling" });
  });

  it("leaves the protocol on stop: producers notify for whoever comes next", async () => {
    await worker!.stop();
    worker = undefined;
    expect(await consumerStates()).toEqual([]);
  });
});
