// The retention job of supabase/migrations/051_personal_data_retention.sql against a real database:
// automation.purge_personal_data() removes what is older than its automation.settings retention and
// keeps what is newer; the delivery log keeps its rows (counts) without the addresses. Time is moved
// with `p_now`. Where pg_cron runs (PostgreSQL 15 here), the job is in cron.job of the cron database.
import { applyMigrations, installPlatform } from "@balansity/devstack";
import { devstackInfo, withDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asCaller } from "./support/console-roles.ts";
import {
  createAssessment,
  createUser,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

const DAY = 24 * 3_600_000;
const NOW = Date.parse("2030-06-03T12:00:00Z");
const at = (offset: number) => new Date(NOW + offset).toISOString();

let database: QueueDatabase;
let pool: pg.Pool;
let user: { id: string; email: string };
let assessment: string;

beforeAll(async () => {
  database = await openQueueDatabase();
  pool = database.pool;
  user = await createUser(pool, "anna.ivanova@example.com");
  assessment = await createAssessment(pool, user.id);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await pool.query(`
    delete from automation.email_deliveries;
    delete from analytics.processed_events;
    delete from automation.report_requests;
    delete from automation.payment_notifications;
    delete from analytics.daily_active_users;
    delete from automation.user_work_counts;
    delete from pgmq.q_email_queue_dlq;
    delete from pgmq.a_email_queue_dlq;
    delete from automation.settings where key = 'retention_batch_size';
    insert into automation.settings (key, value) values ('retention_batch_size', '10000');
    update automation.settings set value = '30 days' where key in ('email_recipient_retention', 'processed_event_retention', 'dead_letter_retention');
    update automation.settings set value = '90 days' where key = 'report_request_retention';
  `);
});

async function purge(): Promise<Record<string, number | boolean>> {
  const { rows } = await pool.query("select automation.purge_personal_data($1) as summary", [at(0)]);
  return rows[0].summary;
}

async function setting(key: string, value: string): Promise<void> {
  await pool.query("update automation.settings set value = $2 where key = $1", [key, value]);
}

async function delivery(key: string, ageDays: number): Promise<void> {
  await pool.query(
    `insert into automation.email_deliveries
       (idempotency_key, msg_id, template, recipient, status, error, smtp_response, created_at, updated_at)
     values ($1, 1, 'checkup_completed', $2, 'failed', $3, $4, $5, $5)`,
    [
      key,
      user.email,
      `550 5.1.1 <${user.email}>: mailbox unavailable`,
      `550 5.1.1 <${user.email}>`,
      at(-ageDays * DAY),
    ],
  );
}

describe("automation.purge_personal_data", () => {
  it("removes recipient addresses older than email_recipient_retention and keeps every row", async () => {
    await delivery("old", 31);
    await delivery("new", 29);

    expect(await purge()).toMatchObject({ email_recipients_removed: 1, more: false });
    const { rows } = await pool.query(
      "select idempotency_key, recipient, error, smtp_response, status from automation.email_deliveries order by idempotency_key",
    );
    expect(rows).toEqual([
      {
        idempotency_key: "new",
        recipient: user.email,
        error: `550 5.1.1 <${user.email}>: mailbox unavailable`,
        smtp_response: `550 5.1.1 <${user.email}>`,
        status: "failed",
      },
      {
        idempotency_key: "old",
        recipient: null,
        error: "550 5.1.1 <[address removed]>: mailbox unavailable",
        smtp_response: "550 5.1.1 <[address removed]>",
        status: "failed",
      },
    ]);
    // Already removed: nothing more to do.
    expect(await purge()).toMatchObject({ email_recipients_removed: 0 });

    // A shorter retention reaches the newer row too; the count of rows stays.
    await setting("email_recipient_retention", "7 days");
    expect(await purge()).toMatchObject({ email_recipients_removed: 1 });
    const left = await pool.query(
      "select count(*)::int as rows, count(recipient)::int as addresses from automation.email_deliveries",
    );
    expect(left.rows[0]).toEqual({ rows: 2, addresses: 0 });
  });

  it("deletes processed events, report requests, payment notifications and counters past their settings", async () => {
    await pool.query(
      "insert into analytics.processed_events (idempotency_key, processed_at) values ('e-old', $1), ('e-new', $2)",
      [at(-31 * DAY), at(-29 * DAY)],
    );
    await pool.query(
      `insert into automation.report_requests (user_id, assessment_id, msg_id, requested_at)
       values ($1, $2, 1, $3), ($1, $2, 2, $4)`,
      [user.id, assessment, at(-91 * DAY), at(-89 * DAY)],
    );
    await pool.query(
      `insert into automation.payment_notifications (provider, event, object_id, outcome, received_at)
       values ('yookassa', 'payment.succeeded', 'p-old', 'applied', $1),
              ('yookassa', 'payment.succeeded', 'p-new', 'applied', $2)`,
      [at(-181 * DAY), at(-179 * DAY)],
    );
    await pool.query(
      `insert into analytics.daily_active_users (day, user_id)
       values (($1::timestamptz at time zone 'UTC')::date, $3), (($2::timestamptz at time zone 'UTC')::date, $3)`,
      [at(-401 * DAY), at(-399 * DAY), user.id],
    );
    await pool.query(
      "insert into automation.user_work_counts (user_id, window_start) values ($1, $2), ($1, $3)",
      [user.id, at(-8 * DAY), at(-6 * DAY)],
    );

    expect(await purge()).toEqual({
      email_recipients_removed: 0,
      processed_events: 1,
      report_requests: 1,
      payment_notifications: 1,
      daily_active_users: 1,
      user_work_counts: 1,
      dead_letters_archived: 0,
      more: false,
    });
    const kept = await pool.query(`
      select (select array_agg(idempotency_key) from analytics.processed_events) as events,
             (select array_agg(msg_id::int) from automation.report_requests) as requests,
             (select array_agg(object_id) from automation.payment_notifications) as notifications,
             (select count(*)::int from analytics.daily_active_users) as active_days,
             (select count(*)::int from automation.user_work_counts) as counters`);
    expect(kept.rows[0]).toEqual({
      events: ["e-new"],
      requests: [2],
      notifications: ["p-new"],
      active_days: 1,
      counters: 1,
    });

    // Shorter settings: the newer rows go too.
    await setting("processed_event_retention", "28 days");
    await setting("report_request_retention", "88 days");
    expect(await purge()).toMatchObject({ processed_events: 1, report_requests: 1 });
  });

  it("never deletes report requests inside report_request_window, which the per-user limit counts", async () => {
    await setting("report_request_retention", "1 hour");
    await pool.query(
      `insert into automation.report_requests (user_id, assessment_id, msg_id, requested_at)
       values ($1, $2, 1, $3), ($1, $2, 2, $4)`,
      [user.id, assessment, at(-2 * 3_600_000), at(-2 * DAY)],
    );
    expect(await purge()).toMatchObject({ report_requests: 1 });
    const { rows } = await pool.query("select msg_id::int from automation.report_requests");
    expect(rows).toEqual([{ msg_id: 1 }]);
  });

  it("archives dead letters older than dead_letter_retention; purge-queue-archives deletes them later", async () => {
    const { rows } = await pool.query<{ id: string }>(
      `select pgmq.send('email_queue_dlq', jsonb_build_object('message', jsonb_build_object('to', $1::text))) as id
       union all
       select pgmq.send('email_queue_dlq', jsonb_build_object('message', jsonb_build_object('to', $1::text)))`,
      [user.email],
    );
    await pool.query("update pgmq.q_email_queue_dlq set enqueued_at = $2 where msg_id = $1", [
      rows[0]!.id,
      at(-31 * DAY),
    ]);
    await pool.query("update pgmq.q_email_queue_dlq set enqueued_at = $2 where msg_id = $1", [
      rows[1]!.id,
      at(-29 * DAY),
    ]);

    expect(await purge()).toMatchObject({ dead_letters_archived: 1 });
    const left = await pool.query("select msg_id::text as id from pgmq.q_email_queue_dlq");
    expect(left.rows).toEqual([{ id: rows[1]!.id }]);
    const archived = await pool.query("select msg_id::text as id from pgmq.a_email_queue_dlq");
    expect(archived.rows).toEqual([{ id: rows[0]!.id }]);
  });

  it("changes at most retention_batch_size rows per table per run and says when more are due", async () => {
    await setting("retention_batch_size", "2");
    for (const key of ["a", "b", "c", "d", "e"]) await delivery(key, 40);

    expect(await purge()).toMatchObject({ email_recipients_removed: 2, more: true });
    expect(await purge()).toMatchObject({ email_recipients_removed: 2, more: true });
    expect(await purge()).toMatchObject({ email_recipients_removed: 1, more: false });
    const { rows } = await pool.query(
      "select count(*)::int as rows, count(recipient)::int as addresses from automation.email_deliveries",
    );
    expect(rows[0]).toEqual({ rows: 5, addresses: 0 });
  });

  it("refuses a retention under an hour and a batch size that is not a positive number", async () => {
    await expect(setting("email_recipient_retention", "10 minutes")).rejects.toThrow(
      /settings_retention_check/,
    );
    await expect(setting("retention_batch_size", "0")).rejects.toThrow(/settings_retention_batch_size_check/);
  });

  it("has its settings, each with a description", async () => {
    const { rows } = await pool.query(
      `select key, value, description is not null and length(description) > 40 as described
       from automation.settings
       where key in ('email_recipient_retention', 'processed_event_retention', 'report_request_retention',
                     'dead_letter_retention', 'payment_notification_retention', 'daily_active_user_retention')
       order by key`,
    );
    expect(rows).toEqual([
      { key: "daily_active_user_retention", value: "400 days", described: true },
      { key: "dead_letter_retention", value: "30 days", described: true },
      { key: "email_recipient_retention", value: "30 days", described: true },
      { key: "payment_notification_retention", value: "180 days", described: true },
      { key: "processed_event_retention", value: "30 days", described: true },
      { key: "report_request_retention", value: "90 days", described: true },
    ]);
  });
});

describe("the purge-personal-data job", () => {
  it("is a job of automation.cron_jobs, hourly, runnable by service_role and by no API user", async () => {
    const { rows } = await pool.query(
      "select schedule, command, enabled from automation.cron_jobs where name = 'purge-personal-data'",
    );
    expect(rows).toEqual([
      { schedule: "15 * * * *", command: "select automation.purge_personal_data()", enabled: true },
    ]);
    await asCaller(pool, "service_role", (client) => client.query(rows[0].command));
    for (const caller of ["user", "anon"] as const) {
      await expect(asCaller(pool, caller, (client) => client.query(rows[0].command))).rejects.toMatchObject({
        code: "42501",
      });
    }
  });

  it("is scheduled in cron.job where pg_cron runs, else left to the worker's scheduler", async () => {
    const info = devstackInfo();
    if (!info.pgCron) {
      // No pg_cron (the embedded PostgreSQL): the console shows the worker's scheduler running it.
      const { rows } = await pool.query(
        "select source, active from public.console_cron_jobs() where jobname = 'purge-personal-data'",
      );
      expect(rows).toEqual([{ source: "worker", active: true }]);
      return;
    }
    // pg_cron lives in one database of the cluster: migrate it as Supabase does.
    const url = withDatabase(info.adminUrl, info.cronDatabase);
    await installPlatform(url);
    await applyMigrations(url);
    const cron = new pg.Client({ connectionString: url });
    await cron.connect();
    try {
      const { rows } = await cron.query(
        "select schedule, command, active, database from cron.job where jobname = 'purge-personal-data'",
      );
      expect(rows).toEqual([
        {
          schedule: "15 * * * *",
          command: "select automation.purge_personal_data()",
          active: true,
          database: info.cronDatabase,
        },
      ]);
    } finally {
      await cron.end();
    }
  });
});
