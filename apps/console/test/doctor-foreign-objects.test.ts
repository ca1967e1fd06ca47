// The doctor on a database that holds more than ours, as Balansity's live one does: the app's own
// tables and functions in public with Supabase's default grants to every API role, a seed-era
// analytics helper, extra columns on our tables, another queue. It passes, listing them; and it
// still fails when one of ours is missing or wrong beside them.
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorChecks } from "../src/checks/index.ts";
import { schemaStateCheck } from "../src/checks/schema-state.ts";
import type { CheckResult } from "../src/doctor/check.ts";
import { formatResult } from "../src/doctor/format-results.ts";
import { runChecks } from "../src/doctor/run-checks.ts";
import { checkAfter } from "./support/run-in-transaction.ts";

let db: TestDatabase;
let client: pg.Client;

// What a Supabase project's own schema looks like next to ours (grants as Supabase's default
// privileges give them), plus what the seed era left whose names were never written down.
const foreignObjects = `
  create table public.courses (id bigserial primary key, title text not null, created_at timestamptz default now());
  alter table public.courses enable row level security;
  create policy courses_read on public.courses for select to anon, authenticated using (true);
  create table public.app_feature_flags (key text primary key, enabled boolean not null default false);
  grant all on table public.courses, public.app_feature_flags to anon, authenticated, service_role;
  grant all on sequence public.courses_id_seq to anon, authenticated, service_role;
  create function public.get_course_titles() returns setof text language sql stable
    as $$ select title from public.courses $$;
  create function public.get_assessment_stats(p_from date) returns bigint language sql stable security definer
    as $$ select count(*) from public.assessments where created_at >= p_from $$;
  grant execute on function public.get_course_titles(), public.get_assessment_stats(date) to anon, authenticated, service_role;
  create function public.courses_touch() returns trigger language plpgsql as $$ begin return new; end $$;
  create trigger courses_touch before update on public.courses for each row execute function public.courses_touch();
  alter table public.profiles add column phone text;
  alter table public.assessments add column legacy_score integer;
  select pgmq.create('app_notifications');`;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(foreignObjects);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const lines = (results: readonly CheckResult[]) => results.flatMap(formatResult);

describe("doctor with objects that are not ours", () => {
  it("passes every check, listing what is not ours as information and warning of the risky ones", async () => {
    const results = await runChecks(client, doctorChecks);
    const output = lines(results);
    expect(output.filter((line) => line.startsWith("FAIL"))).toEqual([]);
    expect(output).toEqual(
      expect.arrayContaining([
        "INFO schema-state: not ours, left alone: 2 tables: public.app_feature_flags, public.courses",
        "INFO schema-state: not ours, left alone: 2 columns: public.assessments.legacy_score, public.profiles.phone",
        "INFO schema-state: not ours, left alone: 3 functions: public.courses_touch(), public.get_assessment_stats(date), public.get_course_titles()",
        "INFO schema-state: not ours, left alone: 1 triggers: trigger courses_touch on public.courses",
        "INFO schema-state: not ours, left alone: 1 queues: app_notifications",
        "INFO api-grants: not ours, so their grants are their owners' to decide: 6 objects in the exposed schemas: public.courses_touch(), public.get_assessment_stats(date), public.get_course_titles(), public.app_feature_flags, public.courses, public.courses_id_seq",
      ]),
    );
    // The app's table without row level security and its definer without search_path: its owners' risk.
    expect(output.filter((line) => line.startsWith("WARN") && !line.startsWith("WARN extensions"))).toEqual([
      expect.stringMatching(
        /^WARN security-definer-search-path: security definer function public\.get_assessment_stats\(date\) has no search_path setting: .* \(not one of ours\) — fix: /,
      ),
      expect.stringMatching(
        /^WARN row-level-security: public\.app_feature_flags has row level security disabled: .* \(not one of ours\) — fix: /,
      ),
    ]);
  });

  it("fails when one of our functions has another body, naming it and the block of schema.sql", async () => {
    const result = await checkAfter(
      client,
      `create or replace function public.is_email_address(address text) returns boolean
         language sql immutable set search_path = '' as $$ select address like '%@%' $$`,
      schemaStateCheck,
    );
    expect(result.status).toBe("fail");
    expect(result.findings.filter((finding) => finding.severity === "fail")).toEqual([
      {
        severity: "fail",
        problem:
          "function public.is_email_address(text) differs from the migrations' version (body, return type or settings)",
        fix: 'apply the migrations (pnpm db:migrate), or pnpm db:adopt on a database whose objects were made by hand; the migrations\' version is the block "-- function public.is_email_address(text)" of supabase/schema.sql',
      },
    ]);
  });

  it("fails on a seed-era overload of our cron function, a missing column and trigger of ours, not on the app's objects", async () => {
    const result = await checkAfter(
      client,
      `create function public.update_appointment_statuses() returns void language sql as 'select';
       alter table public.appointments drop column meeting_url;
       drop trigger profiles_set_updated_at on public.profiles`,
      schemaStateCheck,
    );
    expect(result.findings.filter((finding) => finding.severity === "fail").map((f) => f.problem)).toEqual([
      "column public.appointments.meeting_url (text) does not exist",
      // Dropping the column dropped its checks with it.
      "constraint appointments_meeting_url_check on public.appointments does not exist",
      "constraint appointments_meeting_url_length_check on public.appointments does not exist",
      "function public.update_appointment_statuses() is an overload of public.update_appointment_statuses that the migrations do not declare: calls may be ambiguous or reach it",
      "trigger profiles_set_updated_at on public.profiles does not exist",
    ]);
  });
});
