import { randomUUID } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { emailMessage } from "./support/domain.ts";
import { startTestWorker } from "./support/test-worker.ts";

// Fair share inside the send budget: one user's burst waits behind everyone else's first email.

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSink;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  sink = await startSmtpSink();
});

afterAll(async () => {
  await worker?.stop();
  await sink?.stop();
  await pool?.end();
  await db?.drop();
});

describe("fair share under the send budget", () => {
  it("sends nine users' single emails in the first window although one user queued 40 before them", async () => {
    const burstUser = randomUUID();
    const burst = Array.from({ length: 40 }, (_, i) =>
      emailMessage("busy@example.com", `fair:burst:${i}`, { user_id: burstUser, subject: `burst ${i}` }),
    );
    const others = Array.from({ length: 9 }, (_, i) =>
      emailMessage(`user${i}@example.com`, `fair:other:${i}`, {
        user_id: randomUUID(),
        subject: `other ${i}`,
      }),
    );
    // The burst first, in its own transaction: the oldest messages are all one user's.
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      burst.map((m) => JSON.stringify(m)),
    ]);
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      others.map((m) => JSON.stringify(m)),
    ]);

    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      env: { SMTP_SEND_LIMIT: "10/10s" },
    });

    const firstWindow = (await sink.waitForMessages(10, { timeoutMs: 30_000 })).slice(0, 10);
    const recipients = firstWindow.map((message) => message.envelope.to[0]);
    for (let i = 0; i < 9; i += 1) expect(recipients).toContain(`user${i}@example.com`);
    expect(recipients.filter((to) => to === "busy@example.com")).toHaveLength(1);

    const { rows } = await pool.query(
      "select send_limit, window_seconds, waiting_tier_1 from public.email_budget_status($1::jsonb)",
      [JSON.stringify({ checkup_completed: 1 })],
    );
    expect(rows).toEqual([{ send_limit: 10, window_seconds: 10, waiting_tier_1: "39" }]);
  });
});
