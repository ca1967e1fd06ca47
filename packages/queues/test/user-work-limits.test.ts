// Per-user limits on the work a user's own writes queue (supabase/migrations/039_security_limits.sql):
// one user flooding the API with bookings and completed checkups gets at most their hourly
// allowance queued, the rest is counted as held back, and the high-priority lane stays open to
// everyone else. Writes run the way PostgREST runs a table request from a signed-in browser: one
// transaction, `role` authenticated and the JWT claims set locally, rows from a JSON body.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { userDailyLimitDefaults, userHourlyLimitDefaults } from "../src/queue-limits.ts";
import { createUser, messagesIn, openQueueDatabase, type QueueDatabase } from "./support/queue-database.ts";

let database: QueueDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await openQueueDatabase();
  pool = database.pool;
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  for (const queue of ["email_queue", "report_generation_queue", "analytics_queue"]) {
    await pool.query("select pgmq.purge_queue($1)", [queue]);
  }
});

/** One API request of user `userId`, as PostgREST makes it: a transaction as `authenticated`. */
async function asUser<T>(userId: string, request: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
      [JSON.stringify({ sub: userId, role: "authenticated", aud: "authenticated" })],
    );
    const result = await request(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** POST /rest/v1/appointments with `count` bookings in one body. */
function bookAppointments(userId: string, count: number) {
  const body = Array.from({ length: count }, (_, index) => ({
    user_id: userId,
    specialist_name: `Specialist ${index}`,
    starts_at: new Date(Date.now() + (index + 2) * 86_400_000).toISOString(),
    ends_at: new Date(Date.now() + (index + 2) * 86_400_000 + 3_600_000).toISOString(),
  }));
  return asUser(userId, (client) =>
    client.query(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       select user_id, specialist_name, starts_at, ends_at
       from pg_catalog.json_populate_recordset(null::public.appointments, $1::json)`,
      [JSON.stringify(body)],
    ),
  );
}

/** POST /rest/v1/assessments with `count` checkups, then PATCH ?status=eq.in_progress to complete them all. */
async function completeCheckups(userId: string, count: number) {
  const body = Array.from({ length: count }, (_, index) => ({
    user_id: userId,
    kind: "wellbeing",
    title: `#${index}`,
  }));
  await asUser(userId, (client) =>
    client.query(
      `insert into public.assessments (user_id, kind, title)
       select user_id, kind, title from pg_catalog.json_populate_recordset(null::public.assessments, $1::json)`,
      [JSON.stringify(body)],
    ),
  );
  const completed = await asUser(userId, (client) =>
    client.query("update public.assessments set status = 'completed' where status = 'in_progress'"),
  );
  expect(completed.rowCount).toBe(count);
}

interface CountRow {
  window_start: Date;
  kind: keyof typeof userHourlyLimitDefaults;
  queued: number;
  held_back: number;
}

/**
 * The counters of `userId` (one row per clock hour, a column per kind), per kind, summed over the
 * hours the requests fell in; `limits` are the ones in force.
 */
async function countersOf(
  userId: string,
  limits: Record<CountRow["kind"], number> = userHourlyLimitDefaults,
) {
  const { rows } = await pool.query<CountRow>(
    `select c.window_start, k.kind, k.queued, k.held_back
     from automation.user_work_counts c
     cross join lateral (values
       ('checkup_emails', c.checkup_emails, c.held_back_checkup_emails),
       ('confirmation_emails', c.confirmation_emails, c.held_back_confirmation_emails),
       ('high_priority_emails', c.high_priority_emails, c.held_back_high_priority_emails),
       ('report_jobs', c.report_jobs, c.held_back_report_jobs),
       ('events', c.events, c.held_back_events)
     ) as k (kind, queued, held_back)
     where c.user_id = $1`,
    [userId],
  );
  // Exact per hour: queued is the attempts up to the limit, held_back the rest (a daily limit may
  // hold back more: then queued stays under the hourly limit).
  for (const row of rows) {
    const attempts = Math.min(row.queued + row.held_back, limits[row.kind]);
    if (row.kind in userDailyLimitDefaults)
      expect(row.queued, `${row.kind} queued`).toBeLessThanOrEqual(attempts);
    else expect(row.queued, `${row.kind} queued`).toBe(attempts);
  }
  const sum = (kind: CountRow["kind"], field: "queued" | "held_back") =>
    rows.filter((row) => row.kind === kind).reduce((total, row) => total + row[field], 0);
  const windows = new Set(rows.map((row) => row.window_start.toISOString())).size;
  return { sum, windows };
}

const messagesOf = async (queue: string, userId: string) =>
  (await messagesIn(pool, queue)).filter((row) => row.message.user_id === userId);

describe("per-user limits on work caused by a user's own writes", () => {
  it("refuses 1,000 bookings in one request: a user holds at most 20 upcoming appointments", async () => {
    const flooder = await createUser(pool);
    await expect(bookAppointments(flooder.id, 1000)).rejects.toMatchObject({
      code: "23514",
      message: "appointments: at most 20 upcoming appointments per user (this booking would make 1000)",
    });
    await expect(bookAppointments(flooder.id, 21)).rejects.toMatchObject({ code: "23514" });
    await bookAppointments(flooder.id, 20);
    await expect(bookAppointments(flooder.id, 1)).rejects.toMatchObject({ code: "23514" });
    expect(await messagesOf("email_queue", flooder.id)).toHaveLength(20);
  });

  it("lets the service book past the upcoming-appointments limit", async () => {
    const user = await createUser(pool);
    const { rowCount } = await pool.query(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       select $1, 'Specialist', now() + i * interval '1 day', now() + i * interval '1 day' + interval '1 hour'
       from generate_series(1, 25) as i`,
      [user.id],
    );
    expect(rowCount).toBe(25);
  });

  it("queues only the hourly allowance of a user who books and cancels 60 times and completes 1,000 checkups", async () => {
    const flooder = await createUser(pool);
    for (let round = 0; round < 3; round += 1) {
      await bookAppointments(flooder.id, 20);
      await asUser(flooder.id, (client) =>
        client.query("update public.appointments set status = 'cancelled' where status = 'scheduled'"),
      );
    }
    await completeCheckups(flooder.id, 1000);

    const counters = await countersOf(flooder.id);
    // Almost always one clock hour; the per-hour check in countersOf keeps this exact across an hour change.
    const hours = counters.windows;
    const limits = userHourlyLimitDefaults;
    // A flood within one UTC day also meets the daily limits.
    const daily = userDailyLimitDefaults;

    const emails = await messagesOf("email_queue", flooder.id);
    const confirmations = emails.filter((row) => row.message.template === "appointment_confirmation");
    // A cancellation's email counts against the same allowance as a booking's (048): 60 + 60 units.
    const bookingEmails = emails.filter((row) =>
      ["appointment_confirmation", "appointment_cancelled"].includes(String(row.message.template)),
    );
    const checkupEmails = emails.filter((row) => row.message.template === "checkup_completed");
    expect(bookingEmails).toHaveLength(Math.min(120, limits.confirmation_emails * hours));
    expect(checkupEmails).toHaveLength(Math.min(1000, limits.checkup_emails * hours, daily.checkup_emails));
    expect(confirmations.filter((row) => row.message.priority === 1)).toHaveLength(
      Math.min(60, limits.high_priority_emails * hours),
    );
    expect(await messagesOf("report_generation_queue", flooder.id)).toHaveLength(
      Math.min(1000, limits.report_jobs * hours, daily.report_jobs),
    );
    expect(await messagesOf("analytics_queue", flooder.id)).toHaveLength(
      Math.min(1120, limits.events * hours),
    );

    // Nothing silently dropped: every unit of work is queued or counted as held back.
    expect(counters.sum("confirmation_emails", "queued")).toBe(bookingEmails.length);
    expect(counters.sum("confirmation_emails", "held_back")).toBe(120 - bookingEmails.length);
    expect(counters.sum("checkup_emails", "held_back")).toBe(1000 - checkupEmails.length);
    expect(counters.sum("report_jobs", "held_back")).toBe(
      1000 - Math.min(limits.report_jobs * hours, daily.report_jobs),
    );
    expect(counters.sum("events", "queued") + counters.sum("events", "held_back")).toBe(1120);
    // Confirmations past the high-priority allowance went at normal priority (counted as held back there).
    expect(counters.sum("high_priority_emails", "held_back")).toBe(
      confirmations.filter((row) => row.message.priority === 0).length,
    );
    // The rows themselves are all kept.
    const { rows } = await pool.query<{ appointments: number; completed: number }>(
      `select (select count(*)::integer from public.appointments where user_id = $1) as appointments,
              (select count(*)::integer from public.assessments where user_id = $1 and status = 'completed') as completed`,
      [flooder.id],
    );
    expect(rows[0]).toEqual({ appointments: 60, completed: 1000 });
  });

  it("keeps the high-priority lane open to another user after one user used up theirs", async () => {
    const flooder = await createUser(pool);
    await bookAppointments(flooder.id, userHourlyLimitDefaults.high_priority_emails + 3);
    const other = await createUser(pool);
    await bookAppointments(other.id, 1);

    const [confirmation] = await messagesOf("email_queue", other.id);
    expect(confirmation?.message).toMatchObject({ template: "appointment_confirmation", priority: 1 });
    const flooderPriorities = (await messagesOf("email_queue", flooder.id)).map(
      (row) => row.message.priority,
    );
    expect(flooderPriorities.filter((priority) => priority === 1)).toHaveLength(
      userHourlyLimitDefaults.high_priority_emails,
    );
    expect(flooderPriorities).toHaveLength(userHourlyLimitDefaults.high_priority_emails + 3);
  });

  it("follows the limits in automation.settings when an operator changes them", async () => {
    const settings = await pool.connect();
    try {
      await settings.query("begin");
      await settings.query(
        "update automation.settings set value = '2' where key = 'user_hourly_limit_confirmation_emails'",
      );
      await settings.query(
        "update automation.settings set value = '0' where key = 'user_hourly_limit_events'",
      );
      await settings.query("commit");
      const user = await createUser(pool);
      await bookAppointments(user.id, 3);
      expect(await messagesOf("email_queue", user.id)).toHaveLength(2);
      expect(await messagesOf("analytics_queue", user.id)).toHaveLength(0);
      const counters = await countersOf(user.id, {
        ...userHourlyLimitDefaults,
        confirmation_emails: 2,
        events: 0,
      });
      expect(counters.sum("events", "held_back")).toBe(3);
      expect(counters.sum("confirmation_emails", "held_back")).toBe(1);
    } finally {
      await settings.query(
        `update automation.settings set value = case key
           when 'user_hourly_limit_confirmation_emails' then $1 else $2 end
         where key in ('user_hourly_limit_confirmation_emails', 'user_hourly_limit_events')`,
        [String(userHourlyLimitDefaults.confirmation_emails), String(userHourlyLimitDefaults.events)],
      );
      settings.release();
    }
  });

  it("drops a user's counters older than the retention setting at their first write of an hour", async () => {
    const user = await createUser(pool);
    await pool.query(
      `insert into automation.user_work_counts (user_id, window_start, events)
       values ($1, date_trunc('hour', now()) - interval '10 days', 7), ($1, date_trunc('hour', now()) - interval '2 days', 3)`,
      [user.id],
    );
    await bookAppointments(user.id, 1);
    // Oldest first: the 10-day-old row (7 events) is gone, the 2-day-old one (3) stays, this hour's (1) is new.
    const { rows } = await pool.query<{ events: number }>(
      "select events from automation.user_work_counts where user_id = $1 order by window_start",
      [user.id],
    );
    expect(rows.map((row) => row.events)).toEqual([3, 1]);
  });

  it("holds back checkup emails, report jobs and events past the user's daily limit, counting them", async () => {
    const user = await createUser(pool);
    // Earlier today (UTC) the user already used all but one of each daily allowance.
    await pool.query(
      `insert into automation.user_work_counts (user_id, window_start, checkup_emails, report_jobs, events)
       values ($1, date_trunc('day', now(), 'UTC'), $2, $3, $4)`,
      [
        user.id,
        userDailyLimitDefaults.checkup_emails - 1,
        userDailyLimitDefaults.report_jobs - 1,
        userDailyLimitDefaults.events - 1,
      ],
    );
    await completeCheckups(user.id, 3);
    const emails = await messagesOf("email_queue", user.id);
    expect(emails.filter((row) => row.message.template === "checkup_completed")).toHaveLength(1);
    expect(await messagesOf("report_generation_queue", user.id)).toHaveLength(1);
    expect(await messagesOf("analytics_queue", user.id)).toHaveLength(1);
    const { rows } = await pool.query(
      `select sum(held_back_checkup_emails)::int as checkup, sum(held_back_report_jobs)::int as reports,
              sum(held_back_events)::int as events
       from automation.user_work_counts where user_id = $1`,
      [user.id],
    );
    expect(rows[0]).toEqual({ checkup: 2, reports: 2, events: 2 });
  });

  it("starts each UTC day afresh: yesterday's work does not count against today's limit", async () => {
    const user = await createUser(pool);
    await pool.query(
      `insert into automation.user_work_counts (user_id, window_start, checkup_emails, report_jobs)
       values ($1, date_trunc('day', now(), 'UTC') - interval '1 hour', $2, $3)`,
      [user.id, userDailyLimitDefaults.checkup_emails, userDailyLimitDefaults.report_jobs],
    );
    await completeCheckups(user.id, 2);
    expect(
      (await messagesOf("email_queue", user.id)).filter(
        (row) => row.message.template === "checkup_completed",
      ),
    ).toHaveLength(2);
    expect(await messagesOf("report_generation_queue", user.id)).toHaveLength(2);
  });

  it("installs the daily defaults @balansity/queues documents, and refuses one that is not a number", async () => {
    const { rows } = await pool.query<{ key: string; value: string }>(
      "select key, value from automation.settings where key like 'user_daily_limit_%' order by key",
    );
    expect(
      Object.fromEntries(rows.map((row) => [row.key.replace("user_daily_limit_", ""), Number(row.value)])),
    ).toEqual(userDailyLimitDefaults);
    await expect(
      pool.query("update automation.settings set value = 'lots' where key = 'user_daily_limit_events'"),
    ).rejects.toMatchObject({ code: "23514", constraint: "settings_user_daily_limit_check" });
  });

  it("refuses a checkup's answers over 64 KiB and an appointment topic over 1000 characters, naming the constraint", async () => {
    const user = await createUser(pool);
    const answers = Object.fromEntries(
      Array.from({ length: 3000 }, (_, index) => [`question_${index}`, "x".repeat(20)]),
    );
    await expect(
      asUser(user.id, (client) =>
        client.query(
          "insert into public.assessments (user_id, kind, title, answers) values ($1, 'wellbeing', 'big', $2)",
          [user.id, JSON.stringify(answers)],
        ),
      ),
    ).rejects.toMatchObject({ code: "23514", constraint: "assessments_answers_size_check" });
    await expect(
      asUser(user.id, (client) =>
        client.query(
          `insert into public.appointments (user_id, specialist_name, topic, starts_at, ends_at)
           values ($1, 'Specialist', $2, now() + interval '2 days', now() + interval '2 days 1 hour')`,
          [user.id, "т".repeat(1001)],
        ),
      ),
    ).rejects.toMatchObject({ code: "23514", constraint: "appointments_topic_length_check" });
    // At the limits: accepted.
    await asUser(user.id, (client) =>
      client.query(
        `insert into public.appointments (user_id, specialist_name, topic, starts_at, ends_at)
         values ($1, 'Specialist', $2, now() + interval '2 days', now() + interval '2 days 1 hour')`,
        [user.id, "т".repeat(1000)],
      ),
    );
  });

  it("installs the defaults @balansity/queues documents, and refuses a limit that is not a number", async () => {
    const { rows } = await pool.query<{ key: string; value: string }>(
      "select key, value from automation.settings where key like 'user_hourly_limit_%' order by key",
    );
    expect(
      Object.fromEntries(rows.map((row) => [row.key.replace("user_hourly_limit_", ""), Number(row.value)])),
    ).toEqual(userHourlyLimitDefaults);
    await expect(
      pool.query("update automation.settings set value = 'lots' where key = 'user_hourly_limit_events'"),
    ).rejects.toMatchObject({ code: "23514", constraint: "settings_user_hourly_limit_check" });
  });

  it("gives the API roles no access to the counters or the admission function", async () => {
    const user = randomUUID();
    for (const role of ["anon", "authenticated"]) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query(`set local role ${role}`);
        await expect(client.query("select * from automation.user_work_counts")).rejects.toMatchObject({
          code: "42501",
        });
        await client.query("rollback");
        await client.query("begin");
        await client.query(`set local role ${role}`);
        await expect(
          client.query("select automation.admit_user_work($1, array['events'])", [user]),
        ).rejects.toMatchObject({ code: "42501" });
      } finally {
        await client.query("rollback");
        client.release();
      }
    }
  });
});
