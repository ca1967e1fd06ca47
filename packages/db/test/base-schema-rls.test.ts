// Who can read and write what in the base schema (supabase/migrations/001_base_schema.sql), and the
// constraints and triggers that keep its rows valid. Every statement runs the way PostgREST runs
// it: in a transaction, after `set local role <role>` and `request.jwt.claims`; the transaction is
// always rolled back, so tests do not see each other's writes.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";

const OWNER = "10000000-0000-4000-8000-000000000001";
const STRANGER = "20000000-0000-4000-8000-000000000002";

const OWNER_ASSESSMENT = "1a000000-0000-4000-8000-000000000001";
const STRANGER_ASSESSMENT = "2a000000-0000-4000-8000-000000000002";
const OWNER_APPOINTMENT = "1b000000-0000-4000-8000-000000000001";
const OWNER_PAST_APPOINTMENT = "1b000000-0000-4000-8000-000000000002";
const STRANGER_APPOINTMENT = "2b000000-0000-4000-8000-000000000003";
const OWNER_PAYMENT = "1c000000-0000-4000-8000-000000000001";
const STRANGER_PAYMENT = "2c000000-0000-4000-8000-000000000002";

type Actor =
  | { readonly role: "anon" }
  | { readonly role: "authenticated"; readonly sub: string }
  | { readonly role: "service_role" };

const anon: Actor = { role: "anon" };
const owner: Actor = { role: "authenticated", sub: OWNER };
const stranger: Actor = { role: "authenticated", sub: STRANGER };
const service: Actor = { role: "service_role" };

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values?: unknown[],
) => Promise<pg.QueryResult<R>>;

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // Fixtures, as the superuser: two users (profiles come from the auth.users trigger), and for each
  // an in-progress checkup, a future appointment and a pending payment; the owner also has a past one.
  await client.query(
    `insert into auth.users (id, email, raw_user_meta_data)
     values ($1, 'owner@example.com', '{"full_name": "Owner"}'),
            ($2, 'stranger@example.com', '{"full_name": "Stranger"}')`,
    [OWNER, STRANGER],
  );
  await client.query(
    `insert into public.assessments (id, user_id, kind) values ($1, $2, 'wellbeing'), ($3, $4, 'wellbeing')`,
    [OWNER_ASSESSMENT, OWNER, STRANGER_ASSESSMENT, STRANGER],
  );
  await client.query(
    `insert into public.appointments (id, user_id, specialist_name, starts_at, ends_at, status, price_amount)
     values ($1, $2, 'Specialist', now() + interval '2 days', now() + interval '2 days 1 hour', 'scheduled', 3000),
            ($3, $2, 'Specialist', now() - interval '2 days', now() - interval '2 days' + interval '1 hour', 'completed', 3000),
            ($4, $5, 'Specialist', now() + interval '3 days', now() + interval '3 days 1 hour', 'scheduled', 3000)`,
    [OWNER_APPOINTMENT, OWNER, OWNER_PAST_APPOINTMENT, STRANGER_APPOINTMENT, STRANGER],
  );
  await client.query(
    `insert into public.payments (id, user_id, appointment_id, amount, provider, provider_payment_id)
     values ($1, $2, $3, 3000, 'yookassa', 'p-owner'), ($4, $5, $6, 3000, 'yookassa', 'p-stranger')`,
    [OWNER_PAYMENT, OWNER, OWNER_APPOINTMENT, STRANGER_PAYMENT, STRANGER, STRANGER_APPOINTMENT],
  );
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Runs work as the actor, the way PostgREST does, in a transaction that is always rolled back. */
async function actingAs<T>(actor: Actor, work: (query: Query) => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    await client.query(`set local role ${actor.role}`);
    const claims =
      actor.role === "authenticated" ? { sub: actor.sub, role: actor.role } : { role: actor.role };
    await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
    return await work((text, values) => client.query(text, values));
  } finally {
    await client.query("rollback");
  }
}

/** One statement as the actor. */
function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  actor: Actor,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  return actingAs(actor, (query) => query<R>(text, values));
}

/** Runs work as the superuser in a transaction that is always rolled back. */
async function asSuperuser<T>(work: (query: Query) => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    return await work((text, values) => client.query(text, values));
  } finally {
    await client.query("rollback");
  }
}

/** The error the statement fails with; fails the test when it succeeds. */
async function failure(statement: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await statement;
  } catch (error) {
    if (error instanceof pg.DatabaseError) return error;
    throw error;
  }
  throw new Error("expected the statement to fail, but it succeeded");
}

const PERMISSION_DENIED = { code: "42501", message: expect.stringMatching(/^permission denied/) };
const POLICY_VIOLATION = {
  code: "42501",
  message: expect.stringMatching(/violates row-level security policy/),
};

function ids(result: pg.QueryResult): string[] {
  return result.rows.map((row: { id: string }) => row.id).sort();
}

describe("profiles", () => {
  it("hides every profile from anon", async () => {
    expect(await failure(run(anon, "select * from public.profiles"))).toMatchObject(PERMISSION_DENIED);
  });

  it("shows an authenticated user only their own profile", async () => {
    expect(ids(await run(owner, "select id from public.profiles"))).toEqual([OWNER]);
    expect(ids(await run(stranger, "select id from public.profiles"))).toEqual([STRANGER]);
  });

  it("lets a user change their own name, locale and time zone", async () => {
    const { rows } = await run(
      owner,
      `update public.profiles set full_name = 'Новое Имя', locale = 'en', timezone = 'Asia/Tokyo'
       where id = $1 returning full_name, locale, timezone`,
      [OWNER],
    );
    expect(rows).toEqual([{ full_name: "Новое Имя", locale: "en", timezone: "Asia/Tokyo" }]);
  });

  it("does not let a user update someone else's profile", async () => {
    const result = await run(owner, "update public.profiles set full_name = 'x' where id = $1", [STRANGER]);
    expect(result.rowCount).toBe(0);
  });

  it("does not let a user change the email their mail goes to", async () => {
    const statement = run(owner, "update public.profiles set email = 'attacker@example.com' where id = $1", [
      OWNER,
    ]);
    expect(await failure(statement)).toMatchObject(PERMISSION_DENIED);
  });

  it("does not let a user create or delete profiles", async () => {
    const insert = run(owner, "insert into public.profiles (id, email) values ($1, 'x@example.com')", [
      OWNER,
    ]);
    expect(await failure(insert)).toMatchObject(PERMISSION_DENIED);
    const remove = run(owner, "delete from public.profiles where id = $1", [OWNER]);
    expect(await failure(remove)).toMatchObject(PERMISSION_DENIED);
  });

  it("lets service_role read and update every profile", async () => {
    expect(ids(await run(service, "select id from public.profiles"))).toEqual([OWNER, STRANGER]);
    const result = await run(service, "update public.profiles set email = 'new@example.com' where id = $1", [
      STRANGER,
    ]);
    expect(result.rowCount).toBe(1);
  });
});

describe("assessments", () => {
  it("hides every checkup from anon and refuses its writes", async () => {
    expect(await failure(run(anon, "select * from public.assessments"))).toMatchObject(PERMISSION_DENIED);
    const insert = run(anon, "insert into public.assessments (user_id, kind) values ($1, 'wellbeing')", [
      OWNER,
    ]);
    expect(await failure(insert)).toMatchObject(PERMISSION_DENIED);
  });

  it("shows an authenticated user only their own checkups", async () => {
    expect(ids(await run(owner, "select id from public.assessments"))).toEqual([OWNER_ASSESSMENT]);
    expect(ids(await run(stranger, "select id from public.assessments"))).toEqual([STRANGER_ASSESSMENT]);
  });

  it("lets a user start a checkup of their own", async () => {
    const { rows } = await run(
      owner,
      `insert into public.assessments (user_id, kind, title, answers)
       values ($1, 'stress', 'Стресс', '{"q1": 2}') returning status, completed_at`,
      [OWNER],
    );
    expect(rows).toEqual([{ status: "in_progress", completed_at: null }]);
  });

  it("refuses a checkup started in another user's name", async () => {
    const insert = run(owner, "insert into public.assessments (user_id, kind) values ($1, 'stress')", [
      STRANGER,
    ]);
    expect(await failure(insert)).toMatchObject(POLICY_VIOLATION);
  });

  it("refuses a checkup inserted as already completed", async () => {
    const insert = run(
      owner,
      "insert into public.assessments (user_id, kind, status) values ($1, 'stress', 'completed')",
      [OWNER],
    );
    expect(await failure(insert)).toMatchObject(PERMISSION_DENIED);
  });

  it("lets a user answer and complete their own checkup, stamping completed_at", async () => {
    const { rows } = await run<{ status: string; completed_at: Date | null; answers: unknown }>(
      owner,
      `update public.assessments set answers = '{"q1": 5}', results = '{"score": 80}', status = 'completed'
       where id = $1 returning status, completed_at, answers`,
      [OWNER_ASSESSMENT],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "completed", answers: { q1: 5 } });
    expect(rows[0]?.completed_at).toBeInstanceOf(Date);
  });

  it("keeps a completed checkup final for its user", async () => {
    const second = await actingAs(owner, async (query) => {
      await query("update public.assessments set status = 'completed' where id = $1", [OWNER_ASSESSMENT]);
      return query("update public.assessments set status = 'in_progress', answers = '{}' where id = $1", [
        OWNER_ASSESSMENT,
      ]);
    });
    expect(second.rowCount).toBe(0);
  });

  it("does not let a user change someone else's checkup", async () => {
    const result = await run(owner, "update public.assessments set answers = '{}' where id = $1", [
      STRANGER_ASSESSMENT,
    ]);
    expect(result.rowCount).toBe(0);
  });

  it("does not let a user move their checkup to another user", async () => {
    const update = run(owner, "update public.assessments set user_id = $2 where id = $1", [
      OWNER_ASSESSMENT,
      STRANGER,
    ]);
    expect(await failure(update)).toMatchObject(PERMISSION_DENIED);
  });

  it("does not let a user delete checkups", async () => {
    const remove = run(owner, "delete from public.assessments where id = $1", [OWNER_ASSESSMENT]);
    expect(await failure(remove)).toMatchObject(PERMISSION_DENIED);
  });

  it("lets service_role read, abandon and delete any checkup", async () => {
    await actingAs(service, async (query) => {
      expect(ids(await query("select id from public.assessments"))).toEqual([
        OWNER_ASSESSMENT,
        STRANGER_ASSESSMENT,
      ]);
      const abandoned = await query<{ abandoned_at: Date | null }>(
        "update public.assessments set status = 'abandoned' where id = $1 returning abandoned_at",
        [STRANGER_ASSESSMENT],
      );
      expect(abandoned.rows[0]?.abandoned_at).toBeInstanceOf(Date);
      const removed = await query("delete from public.assessments where id = $1", [STRANGER_ASSESSMENT]);
      expect(removed.rowCount).toBe(1);
    });
  });
});

describe("appointments", () => {
  const book = `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
                values ($1, 'Specialist', now() + interval '1 day', now() + interval '1 day 1 hour')`;

  it("hides every appointment from anon and refuses bookings", async () => {
    expect(await failure(run(anon, "select * from public.appointments"))).toMatchObject(PERMISSION_DENIED);
    expect(await failure(run(anon, book, [OWNER]))).toMatchObject(PERMISSION_DENIED);
  });

  it("shows an authenticated user only their own appointments", async () => {
    expect(ids(await run(owner, "select id from public.appointments"))).toEqual(
      [OWNER_APPOINTMENT, OWNER_PAST_APPOINTMENT].sort(),
    );
    expect(ids(await run(stranger, "select id from public.appointments"))).toEqual([STRANGER_APPOINTMENT]);
  });

  it("lets a user book a future appointment, scheduled and unpaid", async () => {
    const { rows } = await run(owner, `${book} returning status, payment_status, price_amount`, [OWNER]);
    expect(rows).toEqual([{ status: "scheduled", payment_status: "unpaid", price_amount: null }]);
  });

  it("refuses a booking that starts in the past", async () => {
    const insert = run(
      owner,
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       values ($1, 'Specialist', now() - interval '1 hour', now())`,
      [OWNER],
    );
    expect(await failure(insert)).toMatchObject(POLICY_VIOLATION);
  });

  it("refuses a booking in another user's name", async () => {
    expect(await failure(run(owner, book, [STRANGER]))).toMatchObject(POLICY_VIOLATION);
  });

  it("does not let a user set the price, payment status or status of a booking", async () => {
    for (const column of ["price_amount", "payment_status", "status"]) {
      const value = { price_amount: "1", payment_status: "paid", status: "completed" }[column];
      const insert = run(
        owner,
        `insert into public.appointments (user_id, specialist_name, starts_at, ends_at, ${column})
         values ($1, 'Specialist', now() + interval '1 day', now() + interval '1 day 1 hour', $2)`,
        [OWNER, value],
      );
      expect(await failure(insert)).toMatchObject(PERMISSION_DENIED);
    }
  });

  it("lets a user cancel their own scheduled appointment", async () => {
    const { rows } = await run(
      owner,
      "update public.appointments set status = 'cancelled' where id = $1 returning status",
      [OWNER_APPOINTMENT],
    );
    expect(rows).toEqual([{ status: "cancelled" }]);
  });

  it("refuses any status change other than cancelling", async () => {
    const update = run(owner, "update public.appointments set status = 'completed' where id = $1", [
      OWNER_APPOINTMENT,
    ]);
    expect(await failure(update)).toMatchObject(POLICY_VIOLATION);
  });

  it("does not let a user reschedule an appointment or mark it paid", async () => {
    const reschedule = run(
      owner,
      "update public.appointments set starts_at = starts_at + interval '1 day' where id = $1",
      [OWNER_APPOINTMENT],
    );
    expect(await failure(reschedule)).toMatchObject(PERMISSION_DENIED);
    const pay = run(owner, "update public.appointments set payment_status = 'paid' where id = $1", [
      OWNER_APPOINTMENT,
    ]);
    expect(await failure(pay)).toMatchObject(PERMISSION_DENIED);
  });

  it("does not let a user cancel an appointment that is no longer scheduled", async () => {
    const result = await run(owner, "update public.appointments set status = 'cancelled' where id = $1", [
      OWNER_PAST_APPOINTMENT,
    ]);
    expect(result.rowCount).toBe(0);
  });

  it("does not let a user cancel someone else's appointment", async () => {
    const result = await run(owner, "update public.appointments set status = 'cancelled' where id = $1", [
      STRANGER_APPOINTMENT,
    ]);
    expect(result.rowCount).toBe(0);
  });

  it("does not let a user delete appointments", async () => {
    const remove = run(owner, "delete from public.appointments where id = $1", [OWNER_APPOINTMENT]);
    expect(await failure(remove)).toMatchObject(PERMISSION_DENIED);
  });

  it("lets service_role confirm payment and move any appointment", async () => {
    const { rows } = await run(
      service,
      `update public.appointments set payment_status = 'paid', status = 'in_progress',
         meeting_url = 'https://meet.example.com/x'
       where id = $1 returning payment_status, status`,
      [STRANGER_APPOINTMENT],
    );
    expect(rows).toEqual([{ payment_status: "paid", status: "in_progress" }]);
  });
});

describe("payments", () => {
  it("hides every payment from anon", async () => {
    expect(await failure(run(anon, "select * from public.payments"))).toMatchObject(PERMISSION_DENIED);
  });

  it("shows an authenticated user only their own payments", async () => {
    expect(ids(await run(owner, "select id from public.payments"))).toEqual([OWNER_PAYMENT]);
    expect(ids(await run(stranger, "select id from public.payments"))).toEqual([STRANGER_PAYMENT]);
  });

  it("does not let a user create, change or delete a payment, not even their own", async () => {
    const insert = run(
      owner,
      "insert into public.payments (user_id, appointment_id, amount, provider) values ($1, $2, 1, 'yookassa')",
      [OWNER, OWNER_APPOINTMENT],
    );
    expect(await failure(insert)).toMatchObject(PERMISSION_DENIED);
    const complete = run(owner, "update public.payments set status = 'completed' where id = $1", [
      OWNER_PAYMENT,
    ]);
    expect(await failure(complete)).toMatchObject(PERMISSION_DENIED);
    const remove = run(owner, "delete from public.payments where id = $1", [OWNER_PAYMENT]);
    expect(await failure(remove)).toMatchObject(PERMISSION_DENIED);
  });

  it("lets service_role record payments and change their status", async () => {
    await actingAs(service, async (query) => {
      const inserted = await query(
        "insert into public.payments (user_id, appointment_id, amount, provider) values ($1, $2, 10, 'stripe')",
        [STRANGER, STRANGER_APPOINTMENT],
      );
      expect(inserted.rowCount).toBe(1);
      const { rows } = await query(
        "update public.payments set status = 'failed', failure_reason = 'card_declined' where id = $1 returning status",
        [OWNER_PAYMENT],
      );
      expect(rows).toEqual([{ status: "failed" }]);
    });
  });
});

describe("check constraints", () => {
  const rejected: Array<[name: string, sql: string, values: unknown[], constraint: string]> = [
    [
      "an unknown locale",
      "update public.profiles set locale = 'de' where id = $1",
      [OWNER],
      "profiles_locale_check",
    ],
    ...["Mars/Olympus", "MSK", "Europe/Moscow+3", "europe/moscow", "EST5EDT", ""].map(
      (zone): [string, string, unknown[], string] => [
        `the time zone ${JSON.stringify(zone)}`,
        "update public.profiles set timezone = $2 where id = $1",
        [OWNER, zone],
        "profiles_timezone_check",
      ],
    ),
    [
      "a malformed email",
      "update public.profiles set email = 'nobody' where id = $1",
      [OWNER],
      "profiles_email_check",
    ],
    [
      "an unknown checkup status",
      "update public.assessments set status = 'done' where id = $1",
      [OWNER_ASSESSMENT],
      "assessments_status_check",
    ],
    [
      "completed_at on a checkup in progress",
      "update public.assessments set completed_at = now() where id = $1",
      [OWNER_ASSESSMENT],
      "assessments_completed_at_check",
    ],
    [
      "an unknown appointment status",
      "update public.appointments set status = 'confirmed' where id = $1",
      [OWNER_APPOINTMENT],
      "appointments_status_check",
    ],
    [
      "an unknown appointment payment status",
      "update public.appointments set payment_status = 'free' where id = $1",
      [OWNER_APPOINTMENT],
      "appointments_payment_status_check",
    ],
    [
      "an appointment ending when it starts",
      "update public.appointments set ends_at = starts_at where id = $1",
      [OWNER_APPOINTMENT],
      "appointments_time_range_check",
    ],
    [
      "a negative appointment price",
      "update public.appointments set price_amount = -1 where id = $1",
      [OWNER_APPOINTMENT],
      "appointments_price_amount_check",
    ],
    [
      "a lower-case appointment currency",
      "update public.appointments set currency = 'rub' where id = $1",
      [OWNER_APPOINTMENT],
      "appointments_currency_check",
    ],
    [
      "an unknown payment status",
      "update public.payments set status = 'succeeded' where id = $1",
      [OWNER_PAYMENT],
      "payments_status_check",
    ],
    [
      "a zero amount",
      "update public.payments set amount = 0 where id = $1",
      [OWNER_PAYMENT],
      "payments_amount_check",
    ],
    [
      "a negative amount",
      "update public.payments set amount = -10 where id = $1",
      [OWNER_PAYMENT],
      "payments_amount_check",
    ],
    [
      "a lower-case currency",
      "update public.payments set currency = 'rub' where id = $1",
      [OWNER_PAYMENT],
      "payments_currency_check",
    ],
    [
      "a two-letter currency",
      "update public.payments set currency = 'RU' where id = $1",
      [OWNER_PAYMENT],
      "payments_currency_check",
    ],
  ];

  it.each(rejected)("rejects %s", async (_name, sql, values, constraint) => {
    const error = await failure(run(service, sql, values));
    expect(error).toMatchObject({ code: "23514", constraint });
  });

  it("rejects a checkup that leaves completed but keeps its completed_at", async () => {
    const error = await failure(
      actingAs(service, async (query) => {
        await query("update public.assessments set status = 'completed' where id = $1", [OWNER_ASSESSMENT]);
        await query("update public.assessments set status = 'in_progress' where id = $1", [OWNER_ASSESSMENT]);
      }),
    );
    expect(error).toMatchObject({ code: "23514", constraint: "assessments_completed_at_check" });
  });

  it.each(["Europe/Moscow", "America/Argentina/Buenos_Aires", "America/Port-au-Prince", "Etc/GMT+3", "UTC"])(
    "accepts the IANA time zone %s",
    async (zone) => {
      const result = await run(service, "update public.profiles set timezone = $2 where id = $1", [
        OWNER,
        zone,
      ]);
      expect(result.rowCount).toBe(1);
    },
  );

  it("keeps provider payment ids unique per provider only", async () => {
    await actingAs(service, async (query) => {
      const insert =
        "insert into public.payments (user_id, amount, provider, provider_payment_id) values ($1, 1, $2, $3)";
      await query(insert, [OWNER, "stripe", "p-owner"]);
      await query("savepoint duplicate");
      expect(await failure(query(insert, [OWNER, "yookassa", "p-owner"]))).toMatchObject({
        code: "23505",
        constraint: "payments_provider_payment_id_key",
      });
      await query("rollback to savepoint duplicate");
    });
  });
});

describe("updated_at", () => {
  it.each([
    ["profiles", "full_name = 'Renamed'", OWNER],
    ["assessments", "answers = '{\"q9\": 1}'", OWNER_ASSESSMENT],
    ["appointments", "meeting_url = 'https://meet.example.com/new'", OWNER_APPOINTMENT],
    ["payments", "failure_reason = 'retry'", OWNER_PAYMENT],
  ])("moves to the time of the update on %s", async (table, assignment, id) => {
    await asSuperuser(async (query) => {
      // Pretend the row was last written long ago, without firing the trigger under test.
      await query(`alter table public.${table} disable trigger ${table}_set_updated_at`);
      await query(`update public.${table} set updated_at = '2000-01-01' where id = $1`, [id]);
      await query(`alter table public.${table} enable trigger ${table}_set_updated_at`);
      const { rows } = await query<{ updated_at: Date; now: Date }>(
        `update public.${table} set ${assignment} where id = $1 returning updated_at, now() as now`,
        [id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.updated_at).toEqual(rows[0]?.now);
    });
  });

  it("cannot be backdated by the writer", async () => {
    const { rows } = await run<{ updated_at: Date; now: Date }>(
      service,
      "update public.payments set updated_at = '2000-01-01' where id = $1 returning updated_at, now() as now",
      [OWNER_PAYMENT],
    );
    expect(rows[0]?.updated_at).toEqual(rows[0]?.now);
  });
});

describe("auth.users triggers", () => {
  const signUp = "insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)";
  const NEW_USER = "30000000-0000-4000-8000-000000000003";

  it("creates a profile from the sign-up metadata when GoTrue inserts a user", async () => {
    const profile = await asSuperuser(async (query) => {
      // GoTrue's role has no rights on public.profiles: the security definer trigger does the insert.
      await query("set local role supabase_auth_admin");
      await query(signUp, [
        NEW_USER,
        "new@example.com",
        JSON.stringify({ full_name: "Ivan Petrov", locale: "en", timezone: "Asia/Yekaterinburg" }),
      ]);
      await query("reset role");
      return query("select email, full_name, locale, timezone from public.profiles where id = $1", [
        NEW_USER,
      ]);
    });
    expect(profile.rows).toEqual([
      { email: "new@example.com", full_name: "Ivan Petrov", locale: "en", timezone: "Asia/Yekaterinburg" },
    ]);
  });

  it("falls back to ru and Europe/Moscow when the sign-up metadata is missing or unsupported", async () => {
    const profiles = await asSuperuser(async (query) => {
      await query(signUp, [
        NEW_USER,
        "new@example.com",
        JSON.stringify({ locale: "de", timezone: "Mars/Olympus" }),
      ]);
      await query(signUp, ["40000000-0000-4000-8000-000000000004", "bare@example.com", null]);
      return query(
        "select full_name, locale, timezone from public.profiles where email in ('new@example.com', 'bare@example.com')",
      );
    });
    expect(profiles.rows).toEqual([
      { full_name: null, locale: "ru", timezone: "Europe/Moscow" },
      { full_name: null, locale: "ru", timezone: "Europe/Moscow" },
    ]);
  });

  it("copies an email change to the profile", async () => {
    const profile = await asSuperuser(async (query) => {
      await query("set local role supabase_auth_admin");
      await query("update auth.users set email = 'moved@example.com' where id = $1", [OWNER]);
      await query("reset role");
      return query("select email from public.profiles where id = $1", [OWNER]);
    });
    expect(profile.rows).toEqual([{ email: "moved@example.com" }]);
  });

  it("deletes a deleted user's profile, checkups and appointments but keeps their payments", async () => {
    const left = await asSuperuser(async (query) => {
      await query("delete from auth.users where id = $1", [OWNER]);
      return query<{ profiles: number; assessments: number; appointments: number; payment: unknown }>(
        `select (select count(*)::int from public.profiles where id = $1) as profiles,
                (select count(*)::int from public.assessments where user_id = $1) as assessments,
                (select count(*)::int from public.appointments where user_id = $1) as appointments,
                (select row_to_json(p) from (select user_id, appointment_id from public.payments where id = $2) p) as payment`,
        [OWNER, OWNER_PAYMENT],
      );
    });
    expect(left.rows).toEqual([
      { profiles: 0, assessments: 0, appointments: 0, payment: { user_id: null, appointment_id: null } },
    ]);
  });

  it.each([
    "public.handle_new_user()",
    "public.handle_user_email_change()",
    "public.set_updated_at()",
    "public.set_assessment_status_times()",
  ])("refuses API roles a direct call of the trigger function %s", async (fn) => {
    for (const actor of [anon, owner, service]) {
      expect(await failure(run(actor, `select ${fn}`))).toMatchObject(PERMISSION_DENIED);
    }
  });
});

describe("auth helpers", () => {
  it("reads the user id, role and claims from request.jwt.claims", async () => {
    const { rows } = await run(
      owner,
      "select auth.uid() as uid, auth.role() as role, auth.jwt() ->> 'sub' as sub",
    );
    expect(rows).toEqual([{ uid: OWNER, role: "authenticated", sub: OWNER }]);
  });

  it("reads the legacy request.jwt.claim.sub first", async () => {
    const { rows } = await asSuperuser(async (query) => {
      await query(
        "select set_config('request.jwt.claim.sub', $1, true), set_config('request.jwt.claims', $2, true)",
        [STRANGER, JSON.stringify({ sub: OWNER })],
      );
      return query("select auth.uid() as uid");
    });
    expect(rows).toEqual([{ uid: STRANGER }]);
  });

  it("gives no user id without claims", async () => {
    const { rows } = await asSuperuser((query) => query("select auth.uid() as uid, auth.jwt() as jwt"));
    expect(rows).toEqual([{ uid: null, jwt: null }]);
  });
});

describe("the schema as a whole", () => {
  it("has row level security enabled on every table in public", async () => {
    const { rows } = await client.query(
      `select c.relname from pg_catalog.pg_class c
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity`,
    );
    expect(rows).toEqual([]);
  });

  it.each([
    [
      "appointments due to start",
      "select id from public.appointments where status = 'scheduled' and starts_at <= now() + interval '24 hours'",
      "appointments_scheduled_starts_at_idx",
    ],
    [
      "appointments due to end",
      "select id from public.appointments where status = 'in_progress' and ends_at <= now()",
      "appointments_in_progress_ends_at_idx",
    ],
    [
      "checkups left in progress for 30 days",
      "select id from public.assessments where status = 'in_progress' and created_at < now() - interval '30 days'",
      "assessments_in_progress_created_at_idx",
    ],
  ])("finds %s through a partial index", async (_name, query, index) => {
    const plan = await asSuperuser(async (q) => {
      await q("set local enable_seqscan = off");
      const { rows } = await q<{ "QUERY PLAN": string }>(`explain ${query}`);
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(new RegExp(`\\b${index}\\b`));
  });
});
