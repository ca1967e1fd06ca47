// The operator alerts of supabase/migrations/052_operator_alerts.sql against a real database: each
// condition made true (dead letters, an aged message, no worker heartbeat), notified once, not again
// within the hour, again after it while still true, and resolved. Time moves with check_alerts' p_now.

import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { emailMessageSchema } from "../src/index.ts";
import { asCaller } from "./support/console-roles.ts";

const MINUTE = 60_000;
const OPERATORS = ["ops@example.com", "oncall@example.com"];

let db: TestDatabase;
let pool: pg.Pool;
/** The database's clock when a test starts: messages are enqueued by it, checks run relative to it. */
let base: number;

interface CheckResult {
  readonly firing: string[];
  readonly notified: string[];
  readonly resolved: string[];
  readonly emails: number;
}

interface AlertRow {
  readonly condition: string;
  readonly firing: boolean;
  readonly summary: string;
  readonly first_fired_at: Date;
  readonly last_notified_at: Date;
  readonly resolved_at: Date | null;
  readonly notifications: number;
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  await pool.query(`
    delete from automation.alert_state;
    delete from automation.alert_webhooks;
    delete from automation.worker_heartbeats;
    delete from pgmq.q_email_queue;
    delete from pgmq.q_email_queue_dlq;
    delete from pgmq.q_report_generation_queue;
  `);
  await setting("alerts_email_to", OPERATORS.join(", "));
  await setting("alerts_webhook_url", "https://hooks.example.com/balansity");
  // Each test switches on the condition it makes true; the others stay quiet.
  await setting("alerts_dlq_threshold", "");
  await setting("alerts_oldest_message_age", "");
  await setting("alerts_worker_silence", "");
  base = (await pool.query<{ now: Date }>("select now() as now")).rows[0]!.now.getTime();
});

async function setting(key: string, value: string): Promise<void> {
  await pool.query("update automation.settings set value = $2 where key = $1", [key, value]);
}

async function check(offsetMs: number): Promise<CheckResult> {
  const result = await pool.query<{ r: CheckResult }>("select automation.check_alerts($1) as r", [
    new Date(base + offsetMs).toISOString(),
  ]);
  return result.rows[0]!.r;
}

async function state(condition: string): Promise<AlertRow | undefined> {
  const result = await pool.query<AlertRow>("select * from automation.alert_state where condition = $1", [
    condition,
  ]);
  return result.rows[0];
}

/** The operator_alert emails queued, parsed as the worker parses them. */
async function alertEmails() {
  const result = await pool.query<{ message: unknown }>(
    "select message from pgmq.q_email_queue where message->>'template' = 'operator_alert' order by msg_id",
  );
  return result.rows.map((row) => {
    const message = emailMessageSchema.parse(row.message);
    const variables = emailTemplateVariableSchemas.operator_alert.parse(message.variables);
    return { to: message.to, priority: message.priority, locale: message.locale, ...variables };
  });
}

async function webhooks(): Promise<Array<{ condition: string; payload: Record<string, unknown> }>> {
  const result = await pool.query("select condition, payload from automation.alert_webhooks order by id");
  return result.rows;
}

async function deadLetter(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await pool.query("select pgmq.send('email_queue_dlq', $1::jsonb)", [
      JSON.stringify({ version: 1, queue: "email_queue", error: { code: "test", message: "boom" } }),
    ]);
  }
}

describe("dead_letters:<queue>_dlq", () => {
  const condition = "dead_letters:email_queue_dlq";

  it("fires once when dead letters arrive, not again within the hour, again after it, and resolves", async () => {
    await setting("alerts_dlq_threshold", "2");
    await setting("alerts_dlq_window", "1 day");

    await deadLetter(1);
    expect((await check(MINUTE)).firing).toEqual([]);

    await deadLetter(1);
    const fired = await check(2 * MINUTE);
    expect(fired).toMatchObject({ firing: [condition], notified: [condition], emails: 2 });
    const emails = await alertEmails();
    expect(emails.map((email) => email.to).sort()).toEqual([...OPERATORS].sort());
    for (const email of emails) {
      expect(email).toMatchObject({ condition, status: "firing", priority: 1, locale: "ru" });
      expect(email.summary).toContain("2 new dead letters in email_queue_dlq");
    }
    expect(await webhooks()).toEqual([
      { condition, payload: expect.objectContaining({ condition, status: "firing", source: "balansity" }) },
    ]);
    expect(await state(condition)).toMatchObject({ firing: true, notifications: 1, resolved_at: null });

    // Still true within the hour: nothing more.
    expect(await check(3 * MINUTE)).toMatchObject({ firing: [condition], notified: [], emails: 0 });
    expect(await check(61 * MINUTE)).toMatchObject({ notified: [], emails: 0 });
    expect(await alertEmails()).toHaveLength(2);
    expect(await webhooks()).toHaveLength(1);

    // An hour after the last notification, still true: told again, the first firing kept.
    expect(await check(62 * MINUTE)).toMatchObject({ notified: [condition], emails: 2 });
    expect(await alertEmails()).toHaveLength(4);
    expect(await webhooks()).toHaveLength(2);
    const repeated = await state(condition);
    expect(repeated).toMatchObject({ firing: true, notifications: 2 });
    expect(repeated!.first_fired_at.getTime()).toBe(base + 2 * MINUTE);
    expect(repeated!.last_notified_at.getTime()).toBe(base + 62 * MINUTE);

    // The operators replayed the dead letters: resolved, and told once.
    await pool.query("delete from pgmq.q_email_queue_dlq");
    expect(await check(63 * MINUTE)).toMatchObject({ firing: [], resolved: [condition], emails: 2 });
    const resolved = await state(condition);
    expect(resolved).toMatchObject({ firing: false });
    expect(resolved!.resolved_at!.getTime()).toBe(base + 63 * MINUTE);
    expect((await alertEmails()).slice(-2).map((email) => email.status)).toEqual(["resolved", "resolved"]);
    expect(await check(64 * MINUTE)).toMatchObject({ resolved: [], emails: 0 });
  });

  it("counts only the dead letters of the window", async () => {
    await setting("alerts_dlq_threshold", "1");
    await setting("alerts_dlq_window", "1 hour");
    await deadLetter(1);

    expect((await check(MINUTE)).firing).toEqual([condition]);
    // Two hours on, the dead letter is still there but no longer new: resolved.
    expect(await check(120 * MINUTE)).toMatchObject({ firing: [], resolved: [condition] });
  });
});

describe("oldest_message:<queue>", () => {
  const condition = "oldest_message:report_generation_queue";

  async function waitingMessage(ageMinutes: number, { invisibleFor = 0 } = {}): Promise<void> {
    const sent = await pool.query<{ id: string }>(
      `select pgmq.send('report_generation_queue', '{"version": 1}'::jsonb) as id`,
    );
    // Aged by hand (a statement of its own: a CTE's insert is not visible to the update beside it).
    await pool.query(
      `update pgmq.q_report_generation_queue
          set enqueued_at = now() - make_interval(mins => $2), vt = now() + make_interval(mins => $3)
        where msg_id = $1`,
      [sent.rows[0]!.id, ageMinutes, invisibleFor],
    );
  }

  it("fires when a queue's oldest visible message is older than the setting, and resolves when it is gone", async () => {
    await setting("alerts_oldest_message_age", "15 minutes");
    await waitingMessage(10);
    expect((await check(0)).firing).toEqual([]);

    // Five minutes later the same message is 16 minutes old.
    const fired = await check(6 * MINUTE);
    expect(fired).toMatchObject({ firing: [condition], notified: [condition], emails: 2 });
    expect((await alertEmails())[0]!.summary).toContain("report_generation_queue");
    expect(await check(7 * MINUTE)).toMatchObject({ notified: [], emails: 0 });
    // (The alert emails would age in email_queue too, with no worker in this test: taken as sent.)
    await pool.query("delete from pgmq.q_email_queue");
    expect(await check(67 * MINUTE)).toMatchObject({ notified: [condition], emails: 2 });

    await pool.query("delete from pgmq.q_report_generation_queue");
    expect(await check(68 * MINUTE)).toMatchObject({ resolved: [condition] });
    expect((await state(condition))!.firing).toBe(false);
  });

  it("leaves out a message a consumer holds (not visible)", async () => {
    await setting("alerts_oldest_message_age", "15 minutes");
    await waitingMessage(30, { invisibleFor: 10 });
    expect((await check(0)).firing).toEqual([]);
    // Its visibility timeout over, nobody finished it: it waits, and is old.
    expect((await check(11 * MINUTE)).firing).toEqual([condition]);
  });

  it("does not count the dead-letter queues, which hold messages by design", async () => {
    await setting("alerts_oldest_message_age", "1 minute");
    await deadLetter(1);
    expect((await check(10 * MINUTE)).firing).toEqual([]);
  });
});

describe("no_worker", () => {
  async function beat(workerId: string, { stopped = false } = {}): Promise<void> {
    await pool.query("select public.worker_heartbeat($1, 'host-a', 4242, '1.2.3', now(), $2)", [
      workerId,
      stopped,
    ]);
  }

  it("fires while no worker beats within the setting, and resolves when one does", async () => {
    await setting("alerts_worker_silence", "2 minutes");
    expect(await check(0)).toMatchObject({ firing: ["no_worker"], notified: ["no_worker"], emails: 2 });
    expect((await alertEmails())[0]!.summary).toContain("no worker is running");
    // No pg_net in this database: the webhook waits in the outbox for a worker.
    const outbox = await pool.query("select pg_net_request_id from automation.alert_webhooks");
    expect(outbox.rows).toEqual([{ pg_net_request_id: null }]);
    expect(await check(30 * MINUTE)).toMatchObject({ notified: [], emails: 0 });

    await beat("host-a:4242:abc");
    await pool.query("update automation.worker_heartbeats set last_seen_at = $1", [
      new Date(base + 31 * MINUTE).toISOString(),
    ]);
    expect(await check(31 * MINUTE)).toMatchObject({
      firing: [],
      resolved: ["no_worker"],
    });

    // The worker stops beating: three minutes later it counts as gone.
    const silent = await check(34 * MINUTE);
    expect(silent).toMatchObject({ firing: ["no_worker"], notified: ["no_worker"] });
    expect((await state("no_worker"))!.notifications).toBe(1);
  });

  it("takes a cleanly stopped worker for gone at once", async () => {
    await setting("alerts_worker_silence", "2 minutes");
    await beat("host-a:4242:abc");
    expect((await check(0)).firing).toEqual([]);
    await beat("host-a:4242:abc", { stopped: true });
    expect((await check(0)).firing).toEqual(["no_worker"]);
  });

  it("keeps one row per worker, and deletes rows older than worker_heartbeat_retention", async () => {
    await beat("host-a:1:x");
    await beat("host-a:1:x");
    await beat("host-b:2:y");
    const rows = await pool.query("select worker_id from automation.worker_heartbeats order by worker_id");
    expect(rows.rows.map((row) => row.worker_id)).toEqual(["host-a:1:x", "host-b:2:y"]);

    await pool.query(
      "update automation.worker_heartbeats set last_seen_at = now() - interval '25 hours' where worker_id = 'host-a:1:x'",
    );
    await check(0);
    const kept = await pool.query("select worker_id from automation.worker_heartbeats");
    expect(kept.rows.map((row) => row.worker_id)).toEqual(["host-b:2:y"]);
  });
});

describe("notification settings", () => {
  it("queues no email with no recipients and no webhook row with no URL, but keeps the state", async () => {
    await setting("alerts_email_to", "");
    await setting("alerts_webhook_url", "");
    await setting("alerts_worker_silence", "2 minutes");
    expect(await check(0)).toMatchObject({ notified: ["no_worker"], emails: 0 });
    expect(await alertEmails()).toEqual([]);
    expect(await webhooks()).toEqual([]);
    expect((await state("no_worker"))!.firing).toBe(true);
  });

  it("skips an address that is not one and tells the others, in the language set", async () => {
    await setting("alerts_email_to", "ops@example.com, not-an-address");
    await setting("alerts_email_locale", "en");
    await setting("alerts_worker_silence", "2 minutes");
    expect((await check(0)).emails).toBe(1);
    expect(await alertEmails()).toMatchObject([{ to: "ops@example.com", locale: "en" }]);
    await setting("alerts_email_locale", "ru");
  });

  it.each([
    ["alerts_webhook_url", "http://hooks.example.com/x"],
    ["alerts_webhook_url", "ftp://hooks.example.com/x"],
    // Userinfo in the URL is refused; built here so no credential-shaped literal sits in the source.
    ["alerts_webhook_url", `https://${["user", "not-a-password"].join(":")}@hooks.example.com/x`],
    ["alerts_email_locale", "de"],
    ["alerts_dlq_threshold", "0"],
    ["alerts_oldest_message_age", "soon"],
    ["alerts_repeat_interval", "10 seconds"],
  ])("refuses %s = %s when it is written", async (key, value) => {
    await expect(setting(key, value)).rejects.toThrow(/settings_alerts_check|invalid input syntax/);
  });

  it.each([
    "https://hooks.example.com/services/T000/B000",
    "http://127.0.0.1:8080/alerts",
    "http://localhost/alerts",
  ])("accepts the webhook URL %s", async (url) => {
    await setting("alerts_webhook_url", url);
  });
});

describe("the webhook outbox", () => {
  it("leases due rows with the current URL, and retries a failed one later", async () => {
    await setting("alerts_worker_silence", "2 minutes");
    await check(0);
    const claimed = await pool.query("select * from public.alert_webhooks_claim(10, 60)");
    expect(claimed.rows).toMatchObject([{ url: "https://hooks.example.com/balansity", attempt: 1 }]);
    // Leased: a second claim gets nothing.
    expect((await pool.query("select * from public.alert_webhooks_claim(10, 60)")).rows).toEqual([]);

    await pool.query("select public.alert_webhook_result($1, 'HTTP 500')", [claimed.rows[0].id]);
    const failed = await pool.query(
      "select last_error, delivered_at, next_attempt_at > now() as later from automation.alert_webhooks",
    );
    expect(failed.rows).toEqual([{ last_error: "HTTP 500", delivered_at: null, later: true }]);

    await pool.query("update automation.alert_webhooks set next_attempt_at = now()");
    const again = await pool.query("select * from public.alert_webhooks_claim(10, 60)");
    expect(again.rows).toMatchObject([{ attempt: 2 }]);
    await pool.query("select public.alert_webhook_result($1, null)", [again.rows[0].id]);
    const delivered = await pool.query(
      "select delivered_at is not null as delivered from automation.alert_webhooks",
    );
    expect(delivered.rows).toEqual([{ delivered: true }]);
  });
});

describe("console_alerts", () => {
  it("shows operators the conditions and the workers, never the recipients or the URL", async () => {
    await setting("alerts_worker_silence", "2 minutes");
    await check(0);
    await pool.query("select public.worker_heartbeat('host-a:1:x', 'host-a', 1, '1.0.0', now(), true)");
    const view = await asCaller(pool, "operator", async (client) => {
      const result = await client.query("select public.console_alerts() as v");
      return result.rows[0].v;
    });
    expect(view).toMatchObject({
      conditions: [{ condition: "no_worker", firing: true }],
      workers: [{ worker_id: "host-a:1:x", hostname: "host-a" }],
      webhooks_pending: 1,
      email_to_set: true,
      webhook_set: true,
    });
    const text = JSON.stringify(view);
    expect(text).not.toContain("ops@example.com");
    expect(text).not.toContain("hooks.example.com");

    await expect(
      asCaller(pool, "user", (client) => client.query("select public.console_alerts()")),
    ).rejects.toThrow();
  });
});
