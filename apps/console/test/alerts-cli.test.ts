// `balansity alerts` against a real migrated database: the alert state check_alerts (052) leaves, the
// worker heartbeats, and whether anyone is told, never the recipients or the webhook URL.
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

describe("balansity alerts", () => {
  it("shows a firing condition, a resolved one and the workers (--json too)", async () => {
    const { pool } = database;
    await pool.query(
      `update automation.settings set value = case key
         when 'alerts_email_to' then 'ops@example.com' when 'alerts_webhook_url' then 'https://hooks.example.com/secret-path'
         when 'alerts_oldest_message_age' then '' end
       where key in ('alerts_email_to', 'alerts_webhook_url', 'alerts_oldest_message_age')`,
    );
    // No worker: no_worker fires. A dead letter fires and then resolves when it is replayed.
    await pool.query("select pgmq.send('email_queue_dlq', '{\"version\": 1}'::jsonb)");
    await pool.query("select automation.check_alerts()");
    await pool.query("delete from pgmq.q_email_queue_dlq");
    await pool.query("select public.worker_heartbeat('host-a:7:abc', 'host-a', 7, '0.1.0', now(), true)");
    await pool.query("select automation.check_alerts()");

    const result = await runBalansity(["alerts"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("1 alert(s) firing:");
    expect(result.stdout).toMatch(/no_worker since .*told 1 time\(s\)/);
    expect(result.stdout).toContain("resolved dead_letters:email_queue_dlq at");
    expect(result.stdout).toMatch(/host-a:7:abc v0\.1\.0: stopped/);
    expect(result.stdout).toContain("notify: email on, webhook on, 3 webhook(s) waiting for a worker");
    expect(result.stdout).not.toContain("ops@example.com");
    expect(result.stdout).not.toContain("secret-path");

    const json = jsonOf(await runBalansity(["alerts", "--json"], env));
    expect(json).toMatchObject({
      ok: true,
      conditions: [
        { condition: "no_worker", firing: true },
        { condition: "dead_letters:email_queue_dlq", firing: false },
      ],
      workers: [{ worker_id: "host-a:7:abc", pid: 7 }],
      webhooks_pending: 3,
    });
  });
});
