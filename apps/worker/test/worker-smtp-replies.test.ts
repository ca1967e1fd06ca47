import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// What the SMTP server answers decides a message's fate: 4xx is "later" (retried, then sent once),
// 5xx is "never" (dead-lettered with the server's own reply), a template that cannot render never
// reaches the server at all.

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSink;
let worker: RunningWorker;

interface DeadLetterRow {
  readonly error: { code: string; message: string };
  readonly attempts: number;
  readonly message: { idempotency_key: string };
}

async function delivery(key: string) {
  const { rows } = await pool.query<{ status: string; attempts: number; error: string | null }>(
    "select status, attempts, error from automation.email_deliveries where idempotency_key = $1",
    [key],
  );
  return rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  // random 0: retries after 1 s, 2 s (the lower half of the jittered backoff).
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: sink.smtpPort,
    random: () => 0,
    env: { QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "5" },
  });
});

afterAll(async () => {
  await worker?.stop();
  await sink?.stop();
  await pool?.end();
  await db?.drop();
});

beforeEach(() => {
  sink.clear();
  sink.setFailureMode({ kind: "none" });
});

describe("SMTP replies", () => {
  it("retries an email the server answers with 451 and sends it exactly once when it accepts", async () => {
    sink.setFailureMode({ kind: "temporary", code: 451, remaining: 2 });
    const key = "replies:451";
    await sendRaw(pool, "email_queue", emailMessage("temporary@example.com", key, { subject: key }));

    await sink.waitForMessages(1, { timeoutMs: 20_000, to: "temporary@example.com" });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      what: "an empty email_queue",
    });

    expect(sink.messages().filter((message) => message.subject === key)).toHaveLength(1);
    expect(await delivery(key)).toMatchObject({ status: "sent", attempts: 3 });
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });

  it("dead-letters an email the server answers with 550, keeping the server's reply as the reason", async () => {
    sink.setFailureMode({ kind: "permanent", code: 550 });
    const key = "replies:550";
    await sendRaw(pool, "email_queue", emailMessage("rejected@example.com", key, { subject: key }));

    const [dead] = (await waitFor(async () => {
      const letters = (await deadLetters(pool, "email_queue")) as unknown as DeadLetterRow[];
      const mine = letters.filter((letter) => letter.message.idempotency_key === key);
      return mine.length > 0 ? mine : undefined;
    })) as DeadLetterRow[];
    expect(dead?.error.code).toBe("smtp_rejected");
    expect(dead?.error.message).toContain("SMTP 550");
    expect(dead?.error.message).toContain("Permanent failure injected by the SMTP sink");
    // At once: a 5xx is not retried.
    expect(dead?.attempts).toBe(1);
    expect(sink.messages()).toHaveLength(0);
    expect(await delivery(key)).toMatchObject({ status: "failed" });
  });

  it("dead-letters an email the template cannot render, without talking to the server", async () => {
    // The queue's schema takes any zone name; only rendering knows the zone does not exist.
    const key = "replies:unknown-zone";
    await sendRaw(
      pool,
      "email_queue",
      emailMessage("bad-zone@example.com", key, { timezone: "Mars/Olympus" }),
    );

    const [dead] = (await waitFor(async () => {
      const letters = (await deadLetters(pool, "email_queue")) as unknown as DeadLetterRow[];
      const mine = letters.filter((letter) => letter.message.idempotency_key === key);
      return mine.length > 0 ? mine : undefined;
    })) as DeadLetterRow[];
    expect(dead?.error.code).toBe("invalid_options");
    expect(dead?.error.message).toContain("Mars/Olympus");
    expect(dead?.attempts).toBe(1);
    expect(sink.messages()).toHaveLength(0);
    // Rendering comes before the delivery claim: no delivery row for what was never sendable.
    expect(await delivery(key)).toBeUndefined();
  });
});
