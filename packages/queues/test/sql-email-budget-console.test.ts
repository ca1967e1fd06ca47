// supabase/migrations/055_email_budget_console.sql against a real database: the console's budget
// view (operators only), the delivery log's `waiting` rows written by the budget's read, and the
// per-mailbox limit (email_recipient_limit_per_minute) inside that same read.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readUnderBudget, type SendBudget } from "../src/consumer/index.ts";
import { emailSendTiers } from "../src/email-send-tiers.ts";
import { asCaller } from "./support/console-roles.ts";
import {
  countingQueryable,
  emailMessage,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await database.pool.query(
    `select pgmq.purge_queue('email_queue');
     delete from automation.email_send_slots;
     delete from automation.email_send_budgets;
     delete from automation.email_deliveries;
     update automation.settings set value = '30' where key = 'email_recipient_limit_per_minute'`,
  );
});

async function queue(messages: readonly Record<string, unknown>[]): Promise<void> {
  await database.pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
    messages.map((message) => JSON.stringify(message)),
  ]);
}

/** What the worker records once the server accepted an email (the slot then counts from sent_at). */
async function recordSent(keys: readonly string[]): Promise<void> {
  await database.pool.query(
    `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, sent_at)
     select k, 0, 'report_ready', 'x@example.com', 'sent', now() from unnest($1::text[]) k
     on conflict (idempotency_key) do update set status = 'sent', sent_at = now(), attempts = 1`,
    [keys],
  );
}

async function deliveryLog() {
  const { rows } = await database.pool.query<{
    idempotency_key: string;
    status: string;
    attempts: number;
    error: string | null;
  }>(
    "select idempotency_key, status, attempts, error from automation.email_deliveries order by idempotency_key",
  );
  return rows;
}

/** A field of a read email message. */
function field(record: { readonly message: unknown }, name: "idempotency_key" | "to"): string {
  return String((record.message as Record<string, unknown>)[name]);
}

const read = { vt: 60, qty: 100, archive: [] } as const;

describe("console_email_budget", () => {
  it("refuses a signed-in user who is not an operator (42501)", async () => {
    const error = await asCaller(database.pool, "user", (client) =>
      client.query("select * from public.console_email_budget('{}')"),
    ).then(
      () => undefined,
      (reason: { code?: string; message: string }) => reason,
    );
    expect(error?.code).toBe("42501");
    expect(error?.message).toMatch(/^permission denied for function console_email_budget/);
  });

  it("shows an operator the queue per tier and no account when no budget is configured", async () => {
    await queue([
      emailMessage({ template: "appointment_confirmation" }),
      emailMessage({ template: "report_ready" }),
      emailMessage({ template: "appointment_reminder_24h" }),
      emailMessage({ template: "appointment_reminder_24h", priority: 1 }),
    ]);
    const rows = await asCaller(database.pool, "operator", async (client) => {
      const { rows } = await client.query("select * from public.console_email_budget($1::jsonb)", [
        JSON.stringify(emailSendTiers),
      ]);
      return rows;
    });
    expect(rows).toEqual([
      expect.objectContaining({
        account: null,
        send_limit: null,
        waiting_tier_0: "2",
        waiting_tier_1: "1",
        waiting_tier_2: "1",
        waiting_for_budget: "0",
        waiting_for_mailbox: "0",
        recipient_limit_per_minute: 30,
      }),
    ]);
  });

  it("names a tiers argument that is not an object", async () => {
    const error = await asCaller(database.pool, "operator", (client) =>
      client.query("select * from public.console_email_budget('[]')"),
    ).then(
      () => undefined,
      (reason: { code?: string; message: string }) => reason,
    );
    expect(error?.code).toBe("22023");
    expect(error?.message).toContain("tiers must be a JSON object");
  });
});

describe("waiting for the send budget in the delivery log", () => {
  it("marks the emails a budget-limited read leaves as waiting (no attempt), in the same statement, and clears them when they are read", async () => {
    const budget: SendBudget = {
      account: "smtp.example.ru/noreply@balansity.ru",
      limit: 3,
      windowSeconds: 1,
      marginSeconds: 0,
    };
    const keys = Array.from({ length: 5 }, (_, i) => `wait:${i}`);
    await queue(
      keys.map((key) => emailMessage({ idempotency_key: key, to: `${key.replace(":", "")}@example.com` })),
    );

    const counting = countingQueryable(database.pool);
    const first = await readUnderBudget(counting.queryable, budget, read);
    expect(counting.statements).toHaveLength(1);
    expect(first.records.map((record) => field(record, "idempotency_key"))).toEqual(keys.slice(0, 3));
    expect(first.nextSlotAt).toBeInstanceOf(Date);
    expect(await deliveryLog()).toEqual(
      keys.slice(3).map((key) => ({
        idempotency_key: key,
        status: "waiting",
        attempts: 0,
        error: "waiting for the send budget",
      })),
    );

    // The operator sees them: in the delivery view (masked) and counted in the budget view.
    const seen = await asCaller(database.pool, "operator", async (client) => ({
      deliveries: (
        await client.query("select recipient, status from public.console_email_deliveries('waiting')")
      ).rows,
      budget: (
        await client.query(
          "select account, send_limit, sent_in_window, remaining, waiting_for_budget from public.console_email_budget('{}')",
        )
      ).rows,
    }));
    expect(seen.deliveries).toEqual([
      { recipient: expect.stringMatching(/^w\*\*\*@e\*\*\*/), status: "waiting" },
      { recipient: expect.stringMatching(/^w\*\*\*@e\*\*\*/), status: "waiting" },
    ]);
    expect(seen.budget).toEqual([
      {
        account: expect.stringContaining("smtp.example.ru/n***@b***"),
        send_limit: 3,
        sent_in_window: 3,
        remaining: 0,
        waiting_for_budget: "2",
      },
    ]);

    // The first three are sent; once the window has passed, the waiting two are read and leave the log.
    await recordSent(keys.slice(0, 3));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await readUnderBudget(database.pool, budget, read);
    expect(second.records.map((record) => field(record, "idempotency_key"))).toEqual(keys.slice(3));
    expect((await deliveryLog()).filter((row) => row.status === "waiting")).toEqual([]);
  });

  it("does not mark emails a read left because of its batch size, with room in the budget", async () => {
    const budget: SendBudget = { account: "batch/a", limit: 100, windowSeconds: 60, marginSeconds: 0 };
    await queue(
      Array.from({ length: 4 }, (_, i) =>
        emailMessage({ idempotency_key: `batch:${i}`, to: `b${i}@example.com` }),
      ),
    );
    const { records, nextSlotAt } = await readUnderBudget(database.pool, budget, { ...read, qty: 2 });
    expect(records).toHaveLength(2);
    expect(nextSlotAt).toBeUndefined();
    expect(await deliveryLog()).toEqual([]);
  });
});

describe("at most email_recipient_limit_per_minute emails a minute to one mailbox", () => {
  const budget: SendBudget = { account: "mailbox/a", limit: 1000, windowSeconds: 900, marginSeconds: 1 };

  it("reads 30 of 40 emails to one address and every email to the others; the rest wait with the mailbox reason", async () => {
    const busy = Array.from({ length: 40 }, (_, i) =>
      emailMessage({ idempotency_key: `busy:${i}`, to: "Busy@Example.com" }),
    );
    const others = Array.from({ length: 3 }, (_, i) =>
      emailMessage({ idempotency_key: `other:${i}`, to: `other${i}@example.com` }),
    );
    await queue([...busy, ...others]);

    const first = await readUnderBudget(database.pool, budget, read);
    const to = first.records.map((record) => field(record, "to").toLowerCase());
    expect(to.filter((address) => address === "busy@example.com")).toHaveLength(30);
    expect(to.filter((address) => address.startsWith("other"))).toHaveLength(3);
    // Held back by the mailbox limit, not by the queue: the worker is told when to look again.
    expect(first.nextSlotAt).toBeInstanceOf(Date);
    const waiting = (await deliveryLog()).filter((row) => row.status === "waiting");
    expect(waiting).toHaveLength(10);
    expect(new Set(waiting.map((row) => row.error))).toEqual(
      new Set(["waiting: more than 30 emails a minute to this mailbox"]),
    );

    // Another replica (same account, same slots) reads nothing more for that mailbox, but a new email
    // to someone else goes at once.
    await queue([emailMessage({ idempotency_key: "other:late", to: "late@example.com" })]);
    const second = await readUnderBudget(database.pool, budget, read);
    expect(second.records.map((record) => field(record, "to"))).toEqual(["late@example.com"]);

    const view = await asCaller(
      database.pool,
      "operator",
      async (client) =>
        (
          await client.query(
            "select waiting_for_mailbox, recipient_limit_per_minute from public.console_email_budget('{}')",
          )
        ).rows,
    );
    expect(view).toEqual([{ waiting_for_mailbox: "10", recipient_limit_per_minute: 30 }]);
  });

  it("follows the setting (0 turns the limit off)", async () => {
    await database.pool.query(
      "update automation.settings set value = '0' where key = 'email_recipient_limit_per_minute'",
    );
    await queue(
      Array.from({ length: 40 }, (_, i) =>
        emailMessage({ idempotency_key: `off:${i}`, to: "busy@example.com" }),
      ),
    );
    const { records, nextSlotAt } = await readUnderBudget(database.pool, budget, read);
    expect(records).toHaveLength(40);
    expect(nextSlotAt).toBeUndefined();

    await database.pool.query(
      "update automation.settings set value = '5' where key = 'email_recipient_limit_per_minute'",
    );
    await queue(
      Array.from({ length: 8 }, (_, i) =>
        emailMessage({ idempotency_key: `five:${i}`, to: "five@example.com" }),
      ),
    );
    expect((await readUnderBudget(database.pool, budget, read)).records).toHaveLength(5);
  });

  it("refuses a setting that is not a count", async () => {
    await expect(
      database.pool.query(
        "update automation.settings set value = 'thirty' where key = 'email_recipient_limit_per_minute'",
      ),
    ).rejects.toThrow(/settings_email_recipient_limit_check/);
  });
});
