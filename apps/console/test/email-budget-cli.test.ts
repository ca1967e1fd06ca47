// `balansity email budget` against a real migrated database: the send budget a worker reads under
// (049's tables, as public.email_budget_read leaves them) and what waits for it, per priority.
import { type OpenTestDatabase, openTestDatabase } from "@balansity/devstack/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { jsonOf, runBalansity } from "./support/run-cli.ts";

vi.setConfig({ testTimeout: 120_000 });

let database: OpenTestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  database = await openTestDatabase("migrated");
  env = { DATABASE_URL: database.db.url };
});

afterAll(async () => {
  await database?.close();
});

function email(key: string, template: string, priority: number) {
  return JSON.stringify({
    version: 1,
    idempotency_key: key,
    to: `${key}@example.com`,
    template,
    locale: "ru",
    timezone: "Europe/Moscow",
    priority,
    variables: {},
  });
}

describe("balansity email budget", () => {
  it("says there is no budget before a worker reads under one", async () => {
    const result = await runBalansity(["email", "budget"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("no send budget");
  });

  it("prints the sent count, the remaining slots and what waits per priority (--json too)", async () => {
    const { pool } = database;
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      [
        email("a", "checkup_completed", 0),
        email("b", "checkup_completed", 0),
        email("c", "appointment_reminder_24h", 0),
        email("d", "appointment_confirmation", 1),
        email("e", "appointment_confirmation", 1),
        email("f", "payment_succeeded", 0),
      ],
    ]);
    // A worker under 3/15m reads: the budget takes the three most urgent (two confirmations, a receipt).
    const read = await pool.query(
      `select msg_id, message->>'idempotency_key' as key
         from public.email_budget_read('smtp.example.ru/noreply@balansity.test', 3, 900, 1, 60, 32, '{}'::bigint[], $1::jsonb)
        where msg_id is not null`,
      [
        JSON.stringify({
          appointment_confirmation: 0,
          payment_succeeded: 0,
          checkup_completed: 1,
          appointment_reminder_24h: 2,
        }),
      ],
    );
    expect(read.rows.map((row) => row.key).sort()).toEqual(["d", "e", "f"]);

    const text = await runBalansity(["email", "budget"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "smtp.example.ru/noreply@balansity.test: 3 of 3 sent in the last 900 s, 0 remaining",
    );
    expect(text.stdout).toContain(
      "waiting for the send budget: transactional 0, checkups and reports 2, 24-hour reminders 1",
    );

    const json = jsonOf(await runBalansity(["email", "budget", "--json"], env)) as {
      ok: boolean;
      budgets: Array<Record<string, unknown>>;
    };
    expect(json.ok).toBe(true);
    expect(json.budgets).toEqual([
      expect.objectContaining({
        account: "smtp.example.ru/noreply@balansity.test",
        send_limit: 3,
        window_seconds: 900,
        sent_in_window: 3,
        remaining: 0,
        waiting: [0, 2, 1],
      }),
    ]);
  });
});
