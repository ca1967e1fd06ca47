// Migration 054 against a real database: the reminder preference on the profile (the user's own
// row only, through the API roles), public.unsubscribe_reminder_emails (service_role, idempotent,
// records when) and the reminder cron job skipping users who turned reminders off.
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function createUser(): Promise<string> {
  const id = randomUUID();
  await pool.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{}')", [
    id,
    `user-${id.slice(0, 8)}@example.com`,
  ]);
  return id;
}

/** One request as PostgREST makes it: a transaction as `role` with the user's claims. */
async function as<T>(
  role: "authenticated" | "anon" | "service_role",
  userId: string | undefined,
  request: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
      role,
      JSON.stringify(userId ? { sub: userId, role } : { role }),
    ]);
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

async function preference(userId: string) {
  const { rows } = await pool.query<{
    reminder_emails: boolean;
    reminder_emails_unsubscribed_at: Date | null;
  }>("select reminder_emails, reminder_emails_unsubscribed_at from public.profiles where id = $1", [userId]);
  return rows[0]!;
}

function unsubscribe(userId: string, role: "authenticated" | "anon" | "service_role" = "service_role") {
  return as(role, role === "authenticated" ? userId : undefined, async (client) => {
    const { rows } = await client.query<{ result: { outcome: string } }>(
      "select public.unsubscribe_reminder_emails($1) as result",
      [userId],
    );
    return rows[0]!.result.outcome;
  });
}

describe("the reminder preference (054)", () => {
  it("is on for a new user", async () => {
    expect(await preference(await createUser())).toEqual({
      reminder_emails: true,
      reminder_emails_unsubscribed_at: null,
    });
  });

  it("unsubscribe_reminder_emails turns it off once, records when, and is idempotent", async () => {
    const user = await createUser();
    expect(await unsubscribe(user)).toBe("unsubscribed");
    const first = await preference(user);
    expect(first.reminder_emails).toBe(false);
    expect(first.reminder_emails_unsubscribed_at).toBeInstanceOf(Date);
    expect(await unsubscribe(user)).toBe("already_off");
    expect(await preference(user)).toEqual(first);
    expect(await unsubscribe(randomUUID())).toBe("unknown_user");
  });

  it("only service_role may call unsubscribe_reminder_emails", async () => {
    const user = await createUser();
    await expect(unsubscribe(user, "authenticated")).rejects.toMatchObject({ code: "42501" });
    await expect(unsubscribe(user, "anon")).rejects.toMatchObject({ code: "42501" });
    expect((await preference(user)).reminder_emails).toBe(true);
  });

  it("a user turns their own reminders on and off, never another user's, and cannot set the time", async () => {
    const anna = await createUser();
    const boris = await createUser();
    const updated = await as("authenticated", anna, (client) =>
      client.query("update public.profiles set reminder_emails = false where id = any($1)", [[anna, boris]]),
    );
    expect(updated.rowCount).toBe(1);
    expect((await preference(anna)).reminder_emails).toBe(false);
    expect((await preference(boris)).reminder_emails).toBe(true);
    const read = await as("authenticated", anna, (client) =>
      client.query<{ reminder_emails: boolean }>("select reminder_emails from public.profiles"),
    );
    expect(read.rows).toEqual([{ reminder_emails: false }]);
    await expect(
      as("authenticated", anna, (client) =>
        client.query("update public.profiles set reminder_emails_unsubscribed_at = now() where id = $1", [
          anna,
        ]),
      ),
    ).rejects.toMatchObject({ code: "42501" });
    await as("authenticated", anna, (client) =>
      client.query("update public.profiles set reminder_emails = true where id = $1", [anna]),
    );
    expect((await preference(anna)).reminder_emails).toBe(true);
  });

  it("the reminder cron job skips users who turned reminders off, and sends once they turn them on", async () => {
    const off = await createUser();
    const on = await createUser();
    const starts = new Date(Date.now() + 3 * 86_400_000);
    const { rows } = await pool.query<{ id: string; user_id: string }>(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       select u, 'Maria', $2, $2::timestamptz + interval '1 hour' from unnest($1::uuid[]) as u
       returning id, user_id`,
      [[off, on], starts],
    );
    await unsubscribe(off);
    const run = async (minutesBefore: number) => {
      const result = await pool.query<{ summary: Record<string, number> }>(
        "select public.send_appointment_reminders($1) as summary",
        [new Date(starts.getTime() - minutesBefore * 60_000)],
      );
      return result.rows[0]!.summary;
    };
    const queued = async () => {
      const result = await pool.query<{ user_id: string; template: string }>(
        `select message->>'user_id' as user_id, message->>'template' as template from pgmq.q_email_queue
         where message->>'template' like 'appointment_reminder_%' and message->>'user_id' = any($1)`,
        [[off, on]],
      );
      return result.rows;
    };
    expect(await run(23 * 60)).toEqual({ reminder_24h: 1, reminder_1h: 0, undeliverable: 0 });
    expect(await queued()).toEqual([{ user_id: on, template: "appointment_reminder_24h" }]);
    const offAppointment = rows.find((row) => row.user_id === off)!.id;
    const marks = await pool.query("select reminder_24h_sent_at from public.appointments where id = $1", [
      offAppointment,
    ]);
    expect(marks.rows[0].reminder_24h_sent_at).toBeNull();

    // Turned back on while the 1-hour window is open: that reminder goes.
    await as("authenticated", off, (client) =>
      client.query("update public.profiles set reminder_emails = true where id = $1", [off]),
    );
    expect(await run(30)).toEqual({ reminder_24h: 0, reminder_1h: 2, undeliverable: 0 });
  });
});
