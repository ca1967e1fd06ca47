import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { emailMessage } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// A real worker and a real SMTP sink under a send budget: what the budget holds back shows in the
// delivery log as waiting until it is sent, and one mailbox gets at most 30 emails in any minute
// while everyone else's mail goes on.

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSink;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  sink = await startSmtpSink();
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await sink?.stop();
  await pool.query("delete from automation.email_send_slots");
});

async function queue(messages: readonly object[]): Promise<void> {
  await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
    messages.map((message) => JSON.stringify(message)),
  ]);
}

/** The console's delivery view (as the database owner: the console functions let it through). */
async function consoleDeliveries(search: string): Promise<{ status: string; error: string | null }[]> {
  const { rows } = await pool.query("select status, error from public.console_email_deliveries($1, 1000)", [
    search,
  ]);
  return rows;
}

/** Delivery log rows of keys starting with `prefix` in `status`. */
async function countDeliveries(prefix: string, status: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from automation.email_deliveries where starts_with(idempotency_key, $1) and status = $2",
    [prefix, status],
  );
  return rows[0]?.n ?? 0;
}

describe("waiting for the send budget", { timeout: 120_000 }, () => {
  it("shows the emails beyond a small budget as waiting in the delivery log and the console, then as sent", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `waiting:${i}`);
    await queue(keys.map((key, i) => emailMessage(`waiting${i}@example.com`, key)));
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      env: { SMTP_SEND_LIMIT: "5/5s" },
    });

    await sink.waitForMessages(5, { timeoutMs: 30_000 });
    await waitFor(async () => (await consoleDeliveries("waiting")).length > 0, {
      timeoutMs: 20_000,
      what: "waiting rows",
    });
    const waiting = await consoleDeliveries("waiting");
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(waiting.length).toBeLessThanOrEqual(7);
    expect(new Set(waiting.map((row) => row.error))).toEqual(new Set(["waiting for the send budget"]));
    const { rows: budget } = await pool.query(
      "select send_limit, waiting_for_budget from public.console_email_budget('{}')",
    );
    expect(budget).toEqual([{ send_limit: 5, waiting_for_budget: expect.any(String) }]);
    expect(Number(budget[0].waiting_for_budget)).toBeGreaterThan(0);

    await sink.waitForMessages(12, { timeoutMs: 60_000 });
    await waitFor(async () => (await countDeliveries("waiting:", "sent")) === 12, {
      timeoutMs: 20_000,
      what: "12 sent rows",
    });
    const { rows } = await pool.query(
      "select status, attempts, count(*)::int as n from automation.email_deliveries group by status, attempts",
    );
    expect(rows).toEqual([{ status: "sent", attempts: 1, n: 12 }]);
    expect(sink.messages()).toHaveLength(12);
  });
});

describe("at most 30 emails a minute to one mailbox", { timeout: 180_000 }, () => {
  it("delivers 30 of 40 emails to one address in the first minute, the rest after it, and the other recipients at once", async () => {
    await queue([
      ...Array.from({ length: 40 }, (_, i) => emailMessage("busy@example.com", `mailbox:busy:${i}`)),
      ...Array.from({ length: 5 }, (_, i) => emailMessage(`calm${i}@example.com`, `mailbox:calm:${i}`)),
    ]);
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: sink.smtpPort,
      // A budget far above what is sent: only the per-mailbox limit (default 30) holds anything back.
      env: { SMTP_SEND_LIMIT: "1000/15m" },
    });

    const first = await sink.waitForMessages(35, { timeoutMs: 30_000 });
    const firstTo = first.map((message) => message.envelope.to[0]);
    expect(firstTo.filter((to) => to === "busy@example.com")).toHaveLength(30);
    expect(firstTo.filter((to) => to?.startsWith("calm"))).toHaveLength(5);
    const held = await consoleDeliveries("waiting");
    expect(held).toHaveLength(10);
    expect(new Set(held.map((row) => row.error))).toEqual(
      new Set(["waiting: more than 30 emails a minute to this mailbox"]),
    );

    const all = await sink.waitForMessages(45, { timeoutMs: 120_000 });
    const busy = all
      .filter((message) => message.envelope.to[0] === "busy@example.com")
      .map((message) => Date.parse(message.receivedAt))
      .sort((a, b) => a - b);
    expect(busy).toHaveLength(40);
    // Any 31 arrivals at that mailbox span more than a minute.
    for (let i = 0; i + 30 < busy.length; i += 1) {
      expect(busy[i + 30]! - busy[i]!).toBeGreaterThanOrEqual(60_000);
    }
    await waitFor(async () => (await countDeliveries("mailbox:", "sent")) === 45, {
      timeoutMs: 20_000,
      what: "45 sent rows",
    });
    expect(await consoleDeliveries("waiting")).toEqual([]);
    const { rows } = await pool.query(
      "select max(attempts)::int as attempts from automation.email_deliveries where recipient = 'busy@example.com'",
    );
    expect(rows).toEqual([{ attempts: 1 }]);
  });
});
