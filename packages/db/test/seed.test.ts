// supabase/seed.sql applies to a freshly migrated database and gives developers (and the cron,
// reminder and payment code that comes later) the rows its header promises.
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";

const seedSql = readFileSync(new URL("../../../supabase/seed.sql", import.meta.url), "utf8");

const ANNA = "11111111-1111-4111-8111-111111111111";
const JOHN = "22222222-2222-4222-8222-222222222222";
const OLEG = "33333333-3333-4333-8333-333333333333";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Rows of a query as plain objects. */
async function rows<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  return (await client.query<R>(sql, values)).rows;
}

describe("supabase/seed.sql", () => {
  // The later tests read what this one wrote; it runs first (tests in a file run in order).
  it("applies in one transaction to a freshly migrated database", async () => {
    await client.query("begin");
    try {
      await client.query(seedSql);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });

  it("creates three users and the console's operator, whose profiles come from their sign-up metadata", async () => {
    expect(
      await rows("select id, email, full_name, locale, timezone from public.profiles order by id"),
    ).toEqual([
      {
        id: ANNA,
        email: "anna.ivanova@example.com",
        full_name: "Анна Иванова",
        locale: "ru",
        timezone: "Europe/Moscow",
      },
      {
        id: JOHN,
        email: "john.smith@example.com",
        full_name: "John Smith",
        locale: "en",
        timezone: "Europe/London",
      },
      {
        id: OLEG,
        email: "oleg.petrov@example.com",
        full_name: "Олег Петров",
        locale: "ru",
        timezone: "Asia/Yekaterinburg",
      },
      {
        id: "99999999-9999-4999-8999-999999999999",
        email: "operator@balansity.local",
        full_name: "Operator",
        locale: "en",
        timezone: "Europe/Moscow",
      },
    ]);
  });

  it("uses example.com addresses (the operator a .local one) and stores no password", async () => {
    expect(
      await rows(
        `select count(*)::int as users,
                count(*) filter (where email like '%@example.com')::int as example_addresses,
                count(*) filter (where coalesce(encrypted_password, '') = '')::int as without_password
         from auth.users`,
      ),
    ).toEqual([{ users: 4, example_addresses: 3, without_password: 4 }]);
  });

  it("has checkups in every status, one of them due for the 30-day cleanup", async () => {
    expect(
      await rows(
        `select status, count(*)::int as count,
                count(*) filter (where created_at < now() - interval '30 days')::int as older_than_30_days
         from public.assessments group by status order by status`,
      ),
    ).toEqual([
      { status: "abandoned", count: 1, older_than_30_days: 1 },
      { status: "completed", count: 1, older_than_30_days: 0 },
      { status: "in_progress", count: 2, older_than_30_days: 1 },
    ]);
  });

  it("has an appointment starting in about 30 minutes that still needs its 1-hour reminder", async () => {
    const due = await rows<{ id: string; minutes: number }>(
      `select id, round(extract(epoch from starts_at - now()) / 60)::int as minutes
       from public.appointments
       where status = 'scheduled' and starts_at <= now() + interval '1 hour' and reminder_1h_sent_at is null`,
    );
    expect(due).toEqual([{ id: "bbbbbbbb-0000-4000-8000-000000000002", minutes: 30 }]);
  });

  it("has an appointment starting in about 23.5 hours that still needs its 24-hour reminder", async () => {
    const due = await rows<{ id: string; minutes: number }>(
      `select id, round(extract(epoch from starts_at - now()) / 60)::int as minutes
       from public.appointments
       where status = 'scheduled' and starts_at <= now() + interval '24 hours' and reminder_24h_sent_at is null`,
    );
    expect(due).toEqual([{ id: "bbbbbbbb-0000-4000-8000-000000000003", minutes: 23 * 60 + 30 }]);
  });

  it("has a past, a running and a cancelled appointment", async () => {
    expect(
      await rows(
        `select id, status, payment_status, starts_at < now() as started, ends_at < now() as ended
         from public.appointments where status <> 'scheduled' order by id`,
      ),
    ).toEqual([
      {
        id: "bbbbbbbb-0000-4000-8000-000000000001",
        status: "completed",
        payment_status: "paid",
        started: true,
        ended: true,
      },
      {
        id: "bbbbbbbb-0000-4000-8000-000000000004",
        status: "cancelled",
        payment_status: "refunded",
        started: false,
        ended: false,
      },
      {
        id: "bbbbbbbb-0000-4000-8000-000000000005",
        status: "in_progress",
        payment_status: "unpaid",
        started: true,
        ended: false,
      },
    ]);
  });

  it("has a payment in every status, each belonging to its appointment's user", async () => {
    expect(
      await rows(
        `select p.status, count(*)::int as count,
                bool_and(p.user_id = a.user_id) as same_user
         from public.payments p join public.appointments a on a.id = p.appointment_id
         group by p.status order by p.status`,
      ),
    ).toEqual([
      { status: "completed", count: 2, same_user: true },
      { status: "failed", count: 1, same_user: true },
      { status: "pending", count: 1, same_user: true },
      { status: "refunded", count: 1, same_user: true },
    ]);
  });

  it("shows each seeded user exactly their own rows through row level security", async () => {
    const visible = async (userId: string) => {
      await client.query("begin");
      try {
        await client.query("set local role authenticated");
        await client.query("select set_config('request.jwt.claims', $1, true)", [
          JSON.stringify({ sub: userId, role: "authenticated" }),
        ]);
        const [counts] = await rows(
          `select (select count(*)::int from public.profiles) as profiles,
                  (select count(*)::int from public.assessments) as assessments,
                  (select count(*)::int from public.appointments) as appointments,
                  (select count(*)::int from public.payments) as payments`,
        );
        return counts;
      } finally {
        await client.query("rollback");
      }
    };
    expect(await visible(ANNA)).toEqual({ profiles: 1, assessments: 2, appointments: 2, payments: 2 });
    expect(await visible(JOHN)).toEqual({ profiles: 1, assessments: 1, appointments: 1, payments: 2 });
    expect(await visible(OLEG)).toEqual({ profiles: 1, assessments: 1, appointments: 2, payments: 1 });
  });
});
