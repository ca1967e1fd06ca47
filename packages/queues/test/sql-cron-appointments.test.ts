// The appointment cron functions of supabase/migrations/030_setup_cron_jobs.sql against a real
// database: public.update_appointment_statuses() and public.send_appointment_reminders(). Time is
// moved with their `p_now` argument, never waited for. Every appointment insert also queues a
// confirmation email (032), so messages are read by template.
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { emailMessageSchema } from "../src/catalog.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** "Now" for every test: a fixed instant, so windows and boundaries are exact. */
const NOW = Date.parse("2030-06-03T09:00:00Z");

const ANNA = "a0000000-0000-4000-8000-000000000001";
const BORIS = "b0000000-0000-4000-8000-000000000002";
/** A profile whose address the profiles table takes but the email queue refuses (no dot in the domain). */
const NO_ADDRESS = "c0000000-0000-4000-8000-000000000003";

type Status = "scheduled" | "in_progress" | "completed" | "cancelled";

interface AppointmentSpec {
  readonly user?: string;
  /** Start, in ms relative to NOW. */
  readonly startsIn: number;
  /** Length in ms (default 1 h). */
  readonly length?: number;
  readonly status?: Status;
  /** When it was booked, in ms relative to NOW (default 10 days before NOW). */
  readonly bookedIn?: number;
}

interface AppointmentRow {
  readonly id: string;
  readonly status: Status;
  readonly reminder_24h_sent_at: Date | null;
  readonly reminder_1h_sent_at: Date | null;
}

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // Profiles come from the auth.users trigger (001).
  await client.query(
    `insert into auth.users (id, email, raw_user_meta_data) values
       ($1, 'anna@example.com', '{"full_name": "Анна Петрова", "locale": "ru", "timezone": "Europe/Moscow"}'),
       ($2, 'boris@example.com', '{"full_name": "Boris", "locale": "en", "timezone": "Asia/Vladivostok"}'),
       ($3, 'nobody@localhost', '{}')`,
    [ANNA, BORIS, NO_ADDRESS],
  );
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

beforeEach(async () => {
  await client.query("delete from public.appointments");
  await client.query("select pgmq.purge_queue('email_queue')");
});

function at(offset: number): string {
  return new Date(NOW + offset).toISOString();
}

async function insertAppointment(spec: AppointmentSpec): Promise<string> {
  const result = await client.query<{ id: string }>(
    `insert into public.appointments
       (user_id, specialist_name, starts_at, ends_at, status, meeting_url, created_at)
     values ($1, 'Мария Иванова', $2, $3, $4, 'https://meet.example.com/room', $5)
     returning id`,
    [
      spec.user ?? ANNA,
      at(spec.startsIn),
      at(spec.startsIn + (spec.length ?? HOUR)),
      spec.status ?? "scheduled",
      at(spec.bookedIn ?? -10 * DAY),
    ],
  );
  return result.rows[0]!.id;
}

async function appointment(id: string): Promise<AppointmentRow> {
  const result = await client.query<AppointmentRow>(
    "select id, status, reminder_24h_sent_at, reminder_1h_sent_at from public.appointments where id = $1",
    [id],
  );
  return result.rows[0]!;
}

async function updateStatuses(
  offset = 0,
  on: pg.Client = client,
): Promise<{ in_progress: number; completed: number }> {
  const result = await on.query<{ summary: { in_progress: number; completed: number } }>(
    "select public.update_appointment_statuses($1) as summary",
    [at(offset)],
  );
  return result.rows[0]!.summary;
}

interface ReminderSummary {
  readonly reminder_24h: number;
  readonly reminder_1h: number;
  readonly undeliverable: number;
}

async function sendReminders(offset = 0, on: pg.Client = client): Promise<ReminderSummary> {
  const result = await on.query<{ summary: ReminderSummary }>(
    "select public.send_appointment_reminders($1) as summary",
    [at(offset)],
  );
  return result.rows[0]!.summary;
}

interface QueuedReminder {
  readonly msg_id: string;
  readonly message: Record<string, unknown> & { template: string; variables: { appointment_id: string } };
}

/** The reminder messages in email_queue, oldest first. */
async function queuedReminders(): Promise<QueuedReminder[]> {
  const result = await client.query<QueuedReminder>(
    `select msg_id, message from pgmq.q_email_queue
     where message ->> 'template' in ('appointment_reminder_24h', 'appointment_reminder_1h')
     order by msg_id`,
  );
  return result.rows;
}

async function backendPid(session: pg.Client): Promise<number> {
  const result = await session.query<{ pid: number }>("select pg_backend_pid() as pid");
  return result.rows[0]!.pid;
}

/** Resolves once session `pid` waits for a lock (its query is in flight). */
async function waitUntilBlocked(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await client.query(
      "select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'",
      [pid],
    );
    if (result.rowCount) return;
    if (Date.now() > deadline) throw new Error(`session ${pid} did not wait for a lock within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** "<template> <appointment id>" per queued reminder, sorted: duplicates show up as repeats. */
async function reminderKeys(): Promise<string[]> {
  const messages = await queuedReminders();
  return messages.map((m) => `${m.message.template} ${m.message.variables.appointment_id}`).sort();
}

describe("public.update_appointment_statuses", () => {
  it("starts a scheduled appointment exactly at starts_at and completes it exactly at ends_at", async () => {
    const id = await insertAppointment({ startsIn: 0, length: HOUR });

    expect(await updateStatuses(-1)).toEqual({ in_progress: 0, completed: 0 });
    expect((await appointment(id)).status).toBe("scheduled");

    expect(await updateStatuses(0)).toEqual({ in_progress: 1, completed: 0 });
    expect((await appointment(id)).status).toBe("in_progress");

    expect(await updateStatuses(HOUR - 1)).toEqual({ in_progress: 0, completed: 0 });
    expect((await appointment(id)).status).toBe("in_progress");

    expect(await updateStatuses(HOUR)).toEqual({ in_progress: 0, completed: 1 });
    expect((await appointment(id)).status).toBe("completed");
  });

  it("completes a scheduled appointment whose whole slot passed between two runs", async () => {
    const id = await insertAppointment({ startsIn: -2 * HOUR, length: HOUR });

    expect(await updateStatuses()).toEqual({ in_progress: 0, completed: 1 });
    expect((await appointment(id)).status).toBe("completed");
  });

  it("leaves future, running, cancelled and completed appointments alone", async () => {
    const future = await insertAppointment({ startsIn: 1 });
    const running = await insertAppointment({ startsIn: -30 * MINUTE, length: HOUR, status: "in_progress" });
    const cancelledPast = await insertAppointment({ startsIn: -3 * HOUR, status: "cancelled" });
    const cancelledNow = await insertAppointment({ startsIn: -10 * MINUTE, status: "cancelled" });
    const completed = await insertAppointment({ startsIn: -3 * DAY, status: "completed" });

    expect(await updateStatuses()).toEqual({ in_progress: 0, completed: 0 });
    expect((await appointment(future)).status).toBe("scheduled");
    expect((await appointment(running)).status).toBe("in_progress");
    expect((await appointment(cancelledPast)).status).toBe("cancelled");
    expect((await appointment(cancelledNow)).status).toBe("cancelled");
    expect((await appointment(completed)).status).toBe("completed");
  });

  it("moves every due appointment in one run and nothing on the next run", async () => {
    for (let i = 0; i < 5; i += 1) await insertAppointment({ startsIn: -i * MINUTE, length: HOUR });
    for (let i = 0; i < 3; i += 1) {
      await insertAppointment({ startsIn: -2 * HOUR, length: HOUR, status: "in_progress" });
    }

    expect(await updateStatuses()).toEqual({ in_progress: 5, completed: 3 });
    expect(await updateStatuses()).toEqual({ in_progress: 0, completed: 0 });
  });

  it("waits for an appointment a user is cancelling and leaves it cancelled", async () => {
    const cancelling = await insertAppointment({ startsIn: -MINUTE });
    const other = await insertAppointment({ startsIn: -MINUTE });
    const user = new pg.Client({ connectionString: db.url });
    const job = new pg.Client({ connectionString: db.url });
    await Promise.all([user.connect(), job.connect()]);
    try {
      await user.query("begin");
      await user.query("update public.appointments set status = 'cancelled' where id = $1", [cancelling]);

      const jobPid = await backendPid(job);
      const run = updateStatuses(0, job);
      await waitUntilBlocked(jobPid);
      await user.query("commit");

      expect(await run).toEqual({ in_progress: 1, completed: 0 });
      expect((await appointment(cancelling)).status).toBe("cancelled");
      expect((await appointment(other)).status).toBe("in_progress");
    } finally {
      await Promise.all([user.end(), job.end()]);
    }
  });
});

describe("public.send_appointment_reminders", () => {
  it("queues the 24-hour reminder once, addressed and localised from the profile", async () => {
    const id = await insertAppointment({ user: BORIS, startsIn: 20 * HOUR, length: 90 * MINUTE });

    expect(await sendReminders()).toEqual({ reminder_24h: 1, reminder_1h: 0, undeliverable: 0 });
    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });

    const messages = await queuedReminders();
    expect(messages).toHaveLength(1);
    const message = emailMessageSchema.parse(messages[0]!.message);
    expect(message).toMatchObject({
      version: 1,
      idempotency_key: `appointment_reminder_24h:${id}`,
      to: "boris@example.com",
      template: "appointment_reminder_24h",
      locale: "en",
      timezone: "Asia/Vladivostok",
      priority: 0,
      user_id: BORIS,
    });
    const variables = emailTemplateVariableSchemas.appointment_reminder_24h.parse(message.variables);
    expect(variables).toMatchObject({
      appointment_id: id,
      consultant_name: "Мария Иванова",
      meeting_url: "https://meet.example.com/room",
      user_name: "Boris",
    });
    expect(Date.parse(variables.starts_at)).toBe(NOW + 20 * HOUR);
    expect(Date.parse(variables.ends_at!)).toBe(NOW + 20 * HOUR + 90 * MINUTE);
    expect((await appointment(id)).reminder_24h_sent_at?.getTime()).toBe(NOW);
  });

  it("queues the 1-hour reminder once, with high priority", async () => {
    const id = await insertAppointment({ startsIn: 40 * MINUTE });

    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 1, undeliverable: 0 });
    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });

    const messages = await queuedReminders();
    expect(messages).toHaveLength(1);
    const message = emailMessageSchema.parse(messages[0]!.message);
    expect(message).toMatchObject({
      idempotency_key: `appointment_reminder_1h:${id}`,
      to: "anna@example.com",
      template: "appointment_reminder_1h",
      locale: "ru",
      timezone: "Europe/Moscow",
      priority: 1,
      user_id: ANNA,
    });
    expect(emailTemplateVariableSchemas.appointment_reminder_1h.parse(message.variables)).toMatchObject({
      appointment_id: id,
      user_name: "Анна Петрова",
    });
    expect((await appointment(id)).reminder_1h_sent_at?.getTime()).toBe(NOW);
  });

  it("uses (now + 1 h, now + 24 h] for the 24-hour window and (now, now + 1 h] for the 1-hour window", async () => {
    const atOneDay = await insertAppointment({ startsIn: 24 * HOUR });
    const pastOneDay = await insertAppointment({ startsIn: 24 * HOUR + 1 });
    const atOneHour = await insertAppointment({ startsIn: HOUR });
    const justAfter = await insertAppointment({ startsIn: 1 });
    const startingNow = await insertAppointment({ startsIn: 0 });

    expect(await sendReminders()).toEqual({ reminder_24h: 1, reminder_1h: 2, undeliverable: 0 });
    expect(await reminderKeys()).toEqual(
      [
        `appointment_reminder_24h ${atOneDay}`,
        `appointment_reminder_1h ${atOneHour}`,
        `appointment_reminder_1h ${justAfter}`,
      ].sort(),
    );
    expect(await appointment(pastOneDay)).toMatchObject({
      reminder_24h_sent_at: null,
      reminder_1h_sent_at: null,
    });
    expect(await appointment(startingNow)).toMatchObject({
      reminder_24h_sent_at: null,
      reminder_1h_sent_at: null,
    });
  });

  it("sends each reminder exactly once across hourly runs, skipped hours and repeated runs", async () => {
    // Starts at :30, so hourly runs fall inside each window at least once.
    const ids = [
      await insertAppointment({ startsIn: 26 * HOUR + 30 * MINUTE }),
      await insertAppointment({ startsIn: 30 * HOUR + 30 * MINUTE, user: BORIS }),
      await insertAppointment({ startsIn: 40 * HOUR + 30 * MINUTE }),
    ];
    // Hourly runs over two days; hours 3-9 are skipped (the scheduler was down), and every run
    // after hour 20 runs twice.
    for (let hour = 0; hour <= 48; hour += 1) {
      if (hour >= 3 && hour <= 9) continue;
      await sendReminders(hour * HOUR);
      if (hour > 20) await sendReminders(hour * HOUR);
    }

    const expected = ids.flatMap((id) => [`appointment_reminder_24h ${id}`, `appointment_reminder_1h ${id}`]);
    expect(await reminderKeys()).toEqual(expected.sort());
  });

  it("still sends the 24-hour reminder when the run is hours late, but not once the 1-hour window is reached", async () => {
    const late = await insertAppointment({ startsIn: 10 * HOUR });
    const tooLate = await insertAppointment({ startsIn: 50 * MINUTE });

    expect(await sendReminders()).toEqual({ reminder_24h: 1, reminder_1h: 1, undeliverable: 0 });
    expect(await reminderKeys()).toEqual(
      [`appointment_reminder_24h ${late}`, `appointment_reminder_1h ${tooLate}`].sort(),
    );
    expect((await appointment(tooLate)).reminder_24h_sent_at).toBeNull();
  });

  it("never reminds of cancelled, running, completed or already started appointments", async () => {
    await insertAppointment({ startsIn: 5 * HOUR, status: "cancelled" });
    await insertAppointment({ startsIn: 30 * MINUTE, status: "cancelled" });
    await insertAppointment({ startsIn: -10 * MINUTE, status: "in_progress" });
    await insertAppointment({ startsIn: -2 * HOUR, status: "completed" });
    // Started but not yet moved on by the status job.
    await insertAppointment({ startsIn: -MINUTE, status: "scheduled" });

    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });
    expect(await queuedReminders()).toEqual([]);
  });

  it("sends no 24-hour reminder for an appointment booked less than 24 hours ahead, only the 1-hour one", async () => {
    const sameDay = await insertAppointment({ startsIn: 5 * HOUR, bookedIn: -HOUR });
    const exactlyADay = await insertAppointment({ startsIn: 5 * HOUR, bookedIn: 5 * HOUR - DAY });
    const aDayAndAMinute = await insertAppointment({ startsIn: 5 * HOUR, bookedIn: 5 * HOUR - DAY - MINUTE });

    expect(await sendReminders()).toEqual({ reminder_24h: 1, reminder_1h: 0, undeliverable: 0 });
    expect(await reminderKeys()).toEqual([`appointment_reminder_24h ${aDayAndAMinute}`]);

    expect(await sendReminders(4 * HOUR + 30 * MINUTE)).toEqual({
      reminder_24h: 0,
      reminder_1h: 3,
      undeliverable: 0,
    });
    expect(await reminderKeys()).toEqual(
      [
        `appointment_reminder_24h ${aDayAndAMinute}`,
        `appointment_reminder_1h ${sameDay}`,
        `appointment_reminder_1h ${exactlyADay}`,
        `appointment_reminder_1h ${aDayAndAMinute}`,
      ].sort(),
    );
  });

  it("makes a concurrent run wait for the run in progress and then queue nothing twice", async () => {
    for (let i = 0; i < 20; i += 1) await insertAppointment({ startsIn: 3 * HOUR + i * MINUTE });
    for (let i = 0; i < 10; i += 1) await insertAppointment({ startsIn: 20 * MINUTE + i * MINUTE });
    const first = new pg.Client({ connectionString: db.url });
    const second = new pg.Client({ connectionString: db.url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query("begin");
      expect(await sendReminders(0, first)).toEqual({ reminder_24h: 20, reminder_1h: 10, undeliverable: 0 });

      // The first run has not committed: the second waits for its row locks, then finds them sent.
      const secondPid = await backendPid(second);
      const secondRun = sendReminders(0, second);
      await waitUntilBlocked(secondPid);
      await first.query("commit");
      expect(await secondRun).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    expect(await queuedReminders()).toHaveLength(30);
  });

  it("sends no reminder for an appointment cancelled while the run waited for it", async () => {
    const id = await insertAppointment({ startsIn: 30 * MINUTE });
    const user = new pg.Client({ connectionString: db.url });
    const job = new pg.Client({ connectionString: db.url });
    await Promise.all([user.connect(), job.connect()]);
    try {
      await user.query("begin");
      await user.query("update public.appointments set status = 'cancelled' where id = $1", [id]);
      const jobPid = await backendPid(job);
      const run = sendReminders(0, job);
      await waitUntilBlocked(jobPid);
      await user.query("commit");
      expect(await run).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });
    } finally {
      await Promise.all([user.end(), job.end()]);
    }
    expect(await queuedReminders()).toEqual([]);
  });

  it("queues each reminder once when two runs start at the same moment", async () => {
    for (let i = 0; i < 200; i += 1) await insertAppointment({ startsIn: 2 * HOUR + i * MINUTE });
    const runners = [
      new pg.Client({ connectionString: db.url }),
      new pg.Client({ connectionString: db.url }),
    ];
    await Promise.all(runners.map((runner) => runner.connect()));
    try {
      const summaries = await Promise.all(runners.map((runner) => sendReminders(0, runner)));
      expect(summaries.reduce((sum, s) => sum + s.reminder_24h, 0)).toBe(200);
    } finally {
      await Promise.all(runners.map((runner) => runner.end()));
    }
    const keys = await reminderKeys();
    expect(keys).toHaveLength(200);
    expect(new Set(keys).size).toBe(200);
  });

  it("marks a reminder to an address the email queue refuses as handled without queuing it", async () => {
    const id = await insertAppointment({ user: NO_ADDRESS, startsIn: 30 * MINUTE });
    await insertAppointment({ startsIn: 30 * MINUTE });

    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 1, undeliverable: 1 });
    expect((await appointment(id)).reminder_1h_sent_at?.getTime()).toBe(NOW);
    expect(await queuedReminders()).toHaveLength(1);
    expect(await sendReminders()).toEqual({ reminder_24h: 0, reminder_1h: 0, undeliverable: 0 });
  });
});
