// One source of truth for text limits: the database refuses what the email templates would refuse
// (check constraints of supabase/migrations/039_security_limits.sql = textLimits of
// @balansity/emails), so an email built from any row the database accepts renders; and 039 fixes
// rows written before it.
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrationsDirectory, runMigrations } from "@balansity/db";
import { createTestDatabase } from "@balansity/devstack/testing";
import { characterCount, renderEmail, textLimits } from "@balansity/emails";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailMessageSchema } from "../src/catalog.ts";
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

/** The column each limited template variable comes from, its check constraint and its limit. */
const limitedColumns = [
  {
    table: "profiles",
    column: "full_name",
    constraint: "profiles_full_name_length_check",
    limit: textLimits.userName,
  },
  {
    table: "assessments",
    column: "title",
    constraint: "assessments_title_length_check",
    limit: textLimits.assessmentTitle,
  },
  {
    table: "appointments",
    column: "specialist_name",
    constraint: "appointments_specialist_name_length_check",
    limit: textLimits.consultantName,
  },
  {
    table: "appointments",
    column: "meeting_url",
    constraint: "appointments_meeting_url_length_check",
    limit: textLimits.url,
  },
  {
    table: "payments",
    column: "failure_reason",
    constraint: "payments_failure_reason_length_check",
    limit: textLimits.failureReason,
  },
] as const;

/** `update` as the signed-in user, the way PostgREST runs a PATCH. */
async function asUser(userId: string, sql: string, values: unknown[]) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
      [JSON.stringify({ sub: userId, role: "authenticated" })],
    );
    const result = await client.query(sql, values);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

describe("text limits the database and the email templates share", () => {
  it("refuses a 201-character name from the user, naming the constraint", async () => {
    const user = await createUser(pool);
    await expect(
      asUser(user.id, "update public.profiles set full_name = $1 where id = $2", ["N".repeat(201), user.id]),
    ).rejects.toMatchObject({ code: "23514", constraint: "profiles_full_name_length_check" });
  });

  it("renders the email of a checkup whose owner has the longest name and title the database accepts", async () => {
    const user = await createUser(pool);
    // Emoji: one character for PostgreSQL, two UTF-16 units for JavaScript.
    const name = "😀".repeat(textLimits.userName);
    const title = "🧘".repeat(textLimits.assessmentTitle);
    await asUser(user.id, "update public.profiles set full_name = $1 where id = $2", [name, user.id]);
    const { rows } = await pool.query<{ id: string }>(
      "insert into public.assessments (user_id, kind, title) values ($1, 'wellbeing', $2) returning id",
      [user.id, title],
    );
    await pool.query("update public.assessments set status = 'completed' where id = $1", [rows[0]?.id]);

    const message = (await messagesIn(pool, "email_queue")).find(
      (row) => row.message.user_id === user.id && row.message.template === "checkup_completed",
    );
    const parsed = emailMessageSchema.parse(message?.message);
    expect(characterCount(String(parsed.variables.user_name))).toBe(textLimits.userName);
    const email = await renderEmail({
      template: "checkup_completed",
      variables: parsed.variables as never,
      locale: parsed.locale,
    });
    expect(email.text).toContain(name);
  });

  it("renders a booking confirmation with the longest specialist name and meeting link the database accepts", async () => {
    const user = await createUser(pool);
    const specialist = "С".repeat(textLimits.consultantName);
    const meetingUrl = `https://meet.example.com/${"a".repeat(textLimits.url - "https://meet.example.com/".length)}`;
    await pool.query(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at, meeting_url)
       values ($1, $2, now() + interval '2 days', now() + interval '2 days 1 hour', $3)`,
      [user.id, specialist, meetingUrl],
    );
    const message = (await messagesIn(pool, "email_queue")).find((row) => row.message.user_id === user.id);
    const parsed = emailMessageSchema.parse(message?.message);
    const email = await renderEmail({
      template: "appointment_confirmation",
      variables: parsed.variables as never,
    });
    expect(email.text).toContain(specialist);
  });

  it("has a check constraint with each limit of @balansity/emails", async () => {
    const { rows } = await pool.query<{ table: string; constraint: string; definition: string }>(
      `select c.conrelid::regclass::text as table, c.conname as constraint, pg_catalog.pg_get_constraintdef(c.oid) as definition
       from pg_catalog.pg_constraint c
       where c.conname = any ($1::text[])`,
      [limitedColumns.map((column) => column.constraint)],
    );
    const found = Object.fromEntries(rows.map((row) => [row.constraint, row.definition]));
    for (const { table, column, constraint, limit } of limitedColumns) {
      expect(found[constraint], `${table}.${column}`).toBe(`CHECK ((length(${column}) <= ${limit}))`);
    }
  });

  it("cuts a sign-up name longer than the profile allows instead of failing the sign-up", async () => {
    await pool.query(
      `insert into auth.users (id, email, raw_user_meta_data)
       values (gen_random_uuid(), 'long-name@example.com', jsonb_build_object('full_name', repeat('Я', 300)))`,
    );
    const profile = await pool.query<{ full_name: string }>(
      "select full_name from public.profiles where email = 'long-name@example.com'",
    );
    expect(profile.rows[0]?.full_name).toBe("Я".repeat(textLimits.userName));
  });
});

describe("039 on a database with rows written before it", () => {
  it("cuts over-long text to the limit and clears an over-long link", async () => {
    const db = await createTestDatabase("platform");
    // The migrations before 039 only, then the rest: a database that lived before the limits.
    const before = await mkdtemp(join(tmpdir(), "migrations-before-039-"));
    const client = new pg.Client({ connectionString: db.url });
    try {
      for (const file of await readdir(migrationsDirectory)) {
        if (file.endsWith(".sql") && file < "039")
          await symlink(join(migrationsDirectory, file), join(before, file));
      }
      await runMigrations({ connectionString: db.url, directory: before });
      await client.connect();
      await client.query(`
        insert into auth.users (id, email, raw_user_meta_data)
        values ('30000000-0000-4000-8000-000000000003', 'old@example.com', jsonb_build_object('full_name', repeat('N', 250)));
        insert into public.assessments (user_id, kind, title)
        values ('30000000-0000-4000-8000-000000000003', 'wellbeing', repeat('T', 400));
        insert into public.appointments (user_id, specialist_name, starts_at, ends_at, status, meeting_url)
        values ('30000000-0000-4000-8000-000000000003', repeat('S', 250), now() - interval '2 days',
                now() - interval '2 days' + interval '1 hour', 'completed', 'https://x.example/' || repeat('u', 3000));
        insert into public.payments (user_id, amount, provider, status, failure_reason)
        values ('30000000-0000-4000-8000-000000000003', 100, 'yookassa', 'failed', repeat('R', 600));
      `);
      // The 039 file alone on top (later migrations belong to other changes and are not needed here).
      const upTo039 = await mkdtemp(join(tmpdir(), "migrations-039-"));
      try {
        for (const file of await readdir(migrationsDirectory)) {
          if (file.endsWith(".sql") && file < "040")
            await symlink(join(migrationsDirectory, file), join(upTo039, file));
        }
        const result = await runMigrations({ connectionString: db.url, directory: upTo039 });
        expect(result.applied.some((file) => file.startsWith("039"))).toBe(true);
      } finally {
        await rm(upTo039, { recursive: true, force: true });
      }
      const { rows } = await client.query<Record<string, number | null>>(`
        select (select length(full_name) from public.profiles) as full_name,
               (select length(title) from public.assessments) as title,
               (select length(specialist_name) from public.appointments) as specialist_name,
               (select length(meeting_url) from public.appointments) as meeting_url,
               (select length(failure_reason) from public.payments) as failure_reason`);
      expect(rows[0]).toEqual({
        full_name: textLimits.userName,
        title: textLimits.assessmentTitle,
        specialist_name: textLimits.consultantName,
        meeting_url: null,
        failure_reason: textLimits.failureReason,
      });
    } finally {
      await client.end();
      await rm(before, { recursive: true, force: true });
      await db.drop();
    }
  });
});
