// compareSchema on a migrated database broken (or added to) in a transaction that is rolled back:
// each of our objects that goes missing or changes is a difference; objects that are not ours are
// listed as foreign and never as differences.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { compareSchema, introspectSchema, loadExpectedSchema, type SchemaComparison } from "../src/index.ts";

let database: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  database = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

async function compareAfter(sql: string): Promise<SchemaComparison> {
  await client.query("begin");
  try {
    await client.query(sql);
    return compareSchema(loadExpectedSchema(), await introspectSchema(client));
  } finally {
    await client.query("rollback");
  }
}

const kinds = (comparison: SchemaComparison) =>
  comparison.differences.map(({ kind, object, expected, found }) => ({ kind, object, expected, found }));

describe("compareSchema", () => {
  it("names a missing column and a column of an incompatible type, expected vs found", async () => {
    const comparison = await compareAfter(
      "alter table public.profiles drop column locale; alter table public.payments alter column currency type varchar(3)",
    );
    expect(kinds(comparison)).toEqual(
      expect.arrayContaining([
        { kind: "missing-column", object: "public.profiles.locale", expected: "text", found: undefined },
        {
          kind: "column-type",
          object: "public.payments.currency",
          expected: "character(3)",
          found: "character varying(3)",
        },
      ]),
    );
    expect(comparison.ok).toBe(false);
  });

  it("finds a missing table, constraint, index and policy, and row security turned off", async () => {
    const comparison = await compareAfter(`
      drop table public.reports cascade;
      alter table public.profiles drop constraint profiles_locale_check;
      drop index public.payments_user_id_created_at_idx;
      drop policy profiles_select_own on public.profiles;
      alter table public.appointments disable row level security`);
    expect(comparison.differences.map(({ kind, object }) => `${kind} ${object}`)).toEqual(
      expect.arrayContaining([
        "missing-table public.reports",
        "missing-constraint constraint profiles_locale_check on public.profiles",
        "missing-index index payments_user_id_created_at_idx on public.payments",
        "missing-policy policy profiles_select_own on public.profiles",
        "row-security-off public.appointments",
      ]),
    );
  });

  it("reports a constraint of ours that is NOT VALID apart, takes one the migrations add NOT VALID as fine once validated, and still finds another definition", async () => {
    const comparison = await compareAfter(`
      alter table public.profiles drop constraint profiles_locale_check;
      alter table public.profiles add constraint profiles_locale_check check (locale = any (array['ru', 'en'])) not valid;
      alter table public.profiles drop constraint profiles_full_name_length_check;
      alter table public.profiles add constraint profiles_full_name_length_check check (length(full_name) <= 300) not valid;
      alter table public.assessments validate constraint assessments_answers_size_check`);
    expect(comparison.unvalidated.map(({ kind, object }) => `${kind} ${object}`)).toEqual([
      "unvalidated-constraint constraint profiles_locale_check on public.profiles",
    ]);
    expect(comparison.differences.map(({ kind, object }) => `${kind} ${object}`)).toEqual([
      "different-constraint constraint profiles_full_name_length_check on public.profiles",
    ]);
  });

  it("finds a function whose body changed, a missing one and an overload we do not declare", async () => {
    const comparison = await compareAfter(`
      create or replace function public.is_email_address(address text) returns boolean
        language sql immutable set search_path = '' as $$ select true $$;
      drop function public.pgmq_metrics(text);
      create function public.update_appointment_statuses() returns void language sql as 'select'`);
    expect(comparison.differences.map(({ kind, object }) => `${kind} ${object}`).sort()).toEqual([
      "different-function public.is_email_address(text)",
      "extra-overload public.update_appointment_statuses()",
      "missing-function public.pgmq_metrics(text)",
    ]);
    const changed = comparison.differences.find((difference) => difference.kind === "different-function");
    expect(changed?.found).toContain("select true");
    expect(changed?.expected).toContain("CREATE OR REPLACE FUNCTION public.is_email_address(address text)");
  });

  it("finds a trigger that is gone, one disabled, and one not ours that runs our function", async () => {
    const comparison = await compareAfter(`
      drop trigger on_new_appointment on public.appointments;
      alter table public.assessments disable trigger on_checkup_completed;
      create trigger on_assessment_done after update on public.assessments
        for each row execute function public.handle_completed_checkup()`);
    expect(comparison.differences.map(({ kind, object }) => `${kind} ${object}`).sort()).toEqual([
      "different-trigger trigger on_checkup_completed on public.assessments",
      "extra-trigger trigger on_assessment_done on public.assessments",
      "missing-trigger trigger on_new_appointment on public.appointments",
    ]);
  });

  it("finds a cron job missing or changed, a queue missing, and an API role granted too much", async () => {
    const comparison = await compareAfter(`
      delete from automation.cron_jobs where name = 'cleanup-old-assessments';
      update automation.cron_jobs set schedule = '*/7 * * * *' where name = 'update-appointment-statuses';
      select pgmq.drop_queue('analytics_queue_dlq');
      grant execute on function public.pgmq_send(text, jsonb, integer) to anon`);
    expect(kinds(comparison)).toEqual([
      {
        kind: "excess-grant",
        object: "function public.pgmq_send(text, jsonb, integer)",
        expected: undefined,
        found: "EXECUTE to anon",
      },
      {
        kind: "missing-cron-job",
        object: "cron job cleanup-old-assessments",
        expected: '"0 0 * * *" select public.cleanup_old_assessments()',
        found: undefined,
      },
      {
        kind: "different-cron-job",
        object: "cron job update-appointment-statuses",
        expected: '"*/5 * * * *" select public.update_appointment_statuses()',
        found: '"*/7 * * * *" select public.update_appointment_statuses()',
      },
      { kind: "missing-queue", object: "analytics_queue_dlq", expected: undefined, found: undefined },
    ]);
  });

  it("leaves a job an operator disabled alone: enabled is the operators' switch, not a difference", async () => {
    const comparison = await compareAfter(
      "update automation.cron_jobs set enabled = false where name = 'purge-queue-archives'",
    );
    expect(comparison.differences).toEqual([]);
  });

  it("lists the app's tables, functions, triggers, columns, cron jobs and queues as foreign, not as differences", async () => {
    const comparison = await compareAfter(`
      create table public.courses (id bigserial primary key, title text not null);
      create policy courses_read on public.courses for select to anon, authenticated using (true);
      alter table public.courses enable row level security;
      grant all on table public.courses to anon, authenticated, service_role;
      grant all on sequence public.courses_id_seq to anon, authenticated, service_role;
      create function public.get_user_stats(p_user uuid) returns bigint language sql stable
        as $$ select count(*) from public.assessments where user_id = p_user $$;
      grant execute on function public.get_user_stats(uuid) to anon, authenticated, service_role;
      create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger courses_touch before update on public.courses for each row execute function public.touch();
      alter table public.profiles add column phone text;
      create index profiles_phone_idx on public.profiles (phone);
      insert into automation.cron_jobs (name, schedule, command) values ('team-report', '0 9 * * 1', 'select 1');
      select pgmq.create('team_queue')`);
    expect(comparison.differences).toEqual([]);
    expect(comparison.ok).toBe(true);
    expect(comparison.foreign.map(({ kind, object }) => `${kind} ${object}`).sort()).toEqual([
      "column public.profiles.phone",
      "cron-job team-report",
      "function public.get_user_stats(uuid)",
      "function public.touch()",
      "index index profiles_phone_idx on public.profiles",
      "queue team_queue",
      "table public.courses",
      "trigger trigger courses_touch on public.courses",
    ]);
  });
});
