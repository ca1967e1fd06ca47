import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SmtpThread } from "../src/email/smtp-thread.ts";
import type { RunningWorker } from "../src/worker.ts";
import { completeAssessment, createAssessment, createUser } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// SMTP_THREAD=off: the worker sends from its main thread (less memory, fewer emails per second); the
// rest of the suite runs with the default, a thread of its own.

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker;
const threadSends = vi.spyOn(SmtpThread.prototype, "sendMail");

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    env: { SMTP_THREAD: "off" },
  });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
});

describe("SMTP_THREAD=off", () => {
  it("sends checkup_completed from the main thread and records the delivery", async () => {
    const user = await createUser(pool, { locale: "en", fullName: "Mia" });
    const assessment = await createAssessment(pool, user.id, "Sleep");
    await completeAssessment(pool, assessment);

    const [mail] = await smtp.waitForMessages(1, { timeoutMs: 10_000, to: user.email });
    expect(mail?.text).toContain("Mia");
    // The server's acceptance is recorded right after it.
    const rows = await waitFor(async () => {
      const { rows } = await pool.query<{ status: string; smtp_message_id: string }>(
        "select status, smtp_message_id from automation.email_deliveries where recipient = $1",
        [user.email],
      );
      return rows[0]?.status === "sent" ? rows : undefined;
    });
    expect(threadSends).not.toHaveBeenCalled();
    expect(rows).toEqual([{ status: "sent", smtp_message_id: mail?.messageId }]);
  });
});
