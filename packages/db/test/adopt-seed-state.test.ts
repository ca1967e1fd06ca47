// `db:adopt` on a database in the seed-era state (the app's tables with rows and columns of their own,
// the seed-era 030–033 applied by hand, a backlog in the seed-era shapes), without pg_cron: the dry run
// writes nothing, adopt keeps every row and replaces the seed-era functions and triggers in place,
// a second run and `db:migrate` find nothing to do. pg_cron, the team's job and the worker draining
// the backlog: apps/worker/test/adopt-seed-state-end-to-end.test.ts.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
// Paths, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { rowSnapshot, schemaSnapshot } from "../../devstack/src/database-snapshot.ts";
import { buildSeedState } from "../../devstack/src/seed-state.ts";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { runCli } from "./support/db-cli-process.ts";

// Each step runs the CLI as a process (as `pnpm db:adopt` does): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

let db: TestDatabase;
let client: pg.Client;
let rowsBefore: string[];

const OLEG = "a0000000-0000-4000-8000-000000000003";
const DRAFT_ASSESSMENT = "b0000000-0000-4000-8000-000000000004";

beforeAll(async () => {
  db = await createTestDatabase("platform");
  await buildSeedState(db.url, { pgCron: false });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  rowsBefore = await rowSnapshot(client);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const adopt = (...args: string[]) => runCli(["adopt", ...args], { DATABASE_URL: db.url });

function splitRowLine(line: string): [string, Record<string, unknown>] {
  const space = line.indexOf(" ");
  return [line.slice(0, space), JSON.parse(line.slice(space + 1)) as Record<string, unknown>];
}

function rowKey(table: string, row: Record<string, unknown>): string {
  const id = row.id ?? row.msg_id ?? row.runid ?? row.key ?? row.name;
  return `${table} ${id === undefined ? JSON.stringify(row) : String(id)}`;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select (${sql})::int as n`, params);
  return rows[0]?.n ?? -1;
}

describe("db:adopt on the seed-era state", () => {
  it("--dry-run prints the plan and changes nothing", async () => {
    const schemaBefore = await schemaSnapshot(client);
    const result = await adopt("--dry-run");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("dry run: nothing is written");
    expect(result.stdout).toMatch(
      /keep {5}table public\.profiles \(3 rows; extra columns kept: avatar_url, phone\)/,
    );
    expect(result.stdout).toMatch(
      /add {6}column profiles\.timezone text default 'Europe\/Moscow'::text not null/,
    );
    expect(result.stdout).toContain(
      `add      constraint profiles.profiles_locale_check NOT VALID, 1 row(s) break it: ${OLEG}`,
    );
    expect(result.stdout).toContain(
      `add      constraint assessments.assessments_status_check NOT VALID, 1 row(s) break it: ${DRAFT_ASSESSMENT}`,
    );
    expect(result.stdout).toContain(
      "replace  function public.update_appointment_statuses() (by this file's, same name)",
    );
    expect(result.stdout).toContain("drop     trigger on_checkup_completed on public.assessments");
    expect(result.stdout).toContain("keep     function public.get_user_analytics(p_user_id uuid) (not ours)");
    expect(await schemaSnapshot(client)).toEqual(schemaBefore);
    expect(await rowSnapshot(client)).toEqual(rowsBefore);
  });

  it("adopts: every row and extra column kept, the seed-era objects replaced under their names", async () => {
    const result = await adopt();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\[1\/\d+\] 001_base_schema\.sql done/);
    expect(result.stdout).toContain("adopted:");
    // Compared with supabase/schema.sql nothing of ours differs; the constraints rows break are not validated yet.
    expect(result.stdout).toMatch(
      /compared with supabase\/schema\.sql: 0 difference\(s\) in what is ours, 2 constraint\(s\) not validated yet/,
    );
    expect(result.stdout).toMatch(
      /not valid {2}constraint assessments_status_check on public\.assessments is NOT VALID/,
    );
    expect(result.stdout).toMatch(
      /not valid {2}constraint profiles_locale_check on public\.profiles is NOT VALID/,
    );

    // Every row that was there is there, column for column (added columns aside).
    const after = new Map(
      (await rowSnapshot(client)).map((line) => {
        const [table, row] = splitRowLine(line);
        return [rowKey(table, row), row] as const;
      }),
    );
    for (const line of rowsBefore) {
      const [table, row] = splitRowLine(line);
      if (table.startsWith("supabase_migrations.")) continue;
      const now = after.get(rowKey(table, row));
      expect(now, line).toBeDefined();
      for (const [column, value] of Object.entries(row))
        expect(now?.[column], `${line} ${column}`).toEqual(value);
    }
    expect(await count("select count(*) from public.specialists")).toBe(2);
    // The backlog is untouched: the worker delivers it.
    expect(await count("select count(*) from pgmq.q_email_queue")).toBe(6);

    // No overload left beside ours; the cron commands resolve.
    for (const name of [
      "update_appointment_statuses",
      "send_appointment_reminders",
      "queue_email_task",
      "queue_report_generation",
      "queue_payment_processing",
      "pgmq_read",
      "pgmq_send",
      "pgmq_archive",
      "pgmq_metrics",
      "handle_completed_checkup",
    ]) {
      expect(
        await count(
          "select count(*) from pg_proc where pronamespace = 'public'::regnamespace and proname = $1",
          [name],
        ),
        name,
      ).toBe(1);
    }
    await client.query("select public.update_appointment_statuses()");
    // One trigger per event: ours, under the seed-era names.
    expect(
      await count(
        "select count(*) from pg_trigger where tgrelid = 'public.assessments'::regclass and tgfoid = 'public.handle_completed_checkup()'::regprocedure",
      ),
    ).toBe(1);
    // The app's own objects are untouched.
    expect(await count("select count(*) from pg_trigger where tgname = 'update_profiles_updated_at'")).toBe(
      1,
    );
    expect(await count("select count(*) from pg_policy where polname = 'Users can view own profile'")).toBe(
      1,
    );
    expect(
      await count("select has_function_privilege('anon', 'public.get_dashboard_stats()', 'execute')::int"),
    ).toBe(1);
    // Rows breaking the new check constraints are kept; the constraints are not validated.
    expect(await count("select count(*) from public.profiles where locale = 'de'")).toBe(1);
    expect(
      await count(
        "select count(*) from pg_constraint where conname = 'assessments_status_check' and not convalidated",
      ),
    ).toBe(1);
  });

  it("leaves the seed-era wrappers and helpers to service_role, callable with the seed-era argument names", async () => {
    for (const fn of [
      "public.pgmq_read(text, integer, integer)",
      "public.pgmq_archive(text, bigint)",
      "public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)",
      "public.queue_report_generation(uuid, uuid, text, text, text)",
      "public.queue_payment_processing(uuid, text, text)",
    ]) {
      for (const role of ["anon", "authenticated", "public"]) {
        const sql =
          role === "public"
            ? "select (exists (select from aclexplode((select proacl from pg_proc where oid = $1::regprocedure)) a where a.grantee = 0))::int"
            : `select has_function_privilege('${role}', $1, 'execute')::int`;
        expect(await count(sql, [fn]), `${role} on ${fn}`).toBe(0);
      }
      expect(await count("select has_function_privilege('service_role', $1, 'execute')::int", [fn]), fn).toBe(
        1,
      );
    }
    await client.query("begin");
    try {
      await client.query("set local role service_role");
      const sent = await client.query<{ id: string }>(
        `select public.queue_email_task("to" => 'ivan@example.com', subject => 'Тест', template => 'report_ready',
           variables => '{"user_name": "Иван"}'::jsonb, priority => 0) as id`,
      );
      expect(Number(sent.rows[0]?.id)).toBeGreaterThan(0);
      const read = await client.query("select * from public.pgmq_read(queue_name => 'email_queue', vt => 0)");
      expect(read.rowCount).toBe(1);
    } finally {
      await client.query("rollback");
    }
  });

  it("queues exactly one report and one email when a checkup completes", async () => {
    const before = {
      report: await count("select coalesce(max(msg_id), 0) from pgmq.q_report_generation_queue"),
      email: await count("select coalesce(max(msg_id), 0) from pgmq.q_email_queue"),
    };
    await client.query(
      "update public.assessments set status = 'completed' where id = 'b0000000-0000-4000-8000-000000000003'",
    );
    expect(
      await count("select count(*) from pgmq.q_report_generation_queue where msg_id > $1", [before.report]),
    ).toBe(1);
    expect(await count("select count(*) from pgmq.q_email_queue where msg_id > $1", [before.email])).toBe(1);
  });

  it("does nothing the second time; db:migrate has nothing to apply", async () => {
    const schemaBefore = await schemaSnapshot(client);
    const second = await adopt();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("nothing to do");
    const migrate = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain("nothing to apply");
    expect(await schemaSnapshot(client)).toEqual(schemaBefore);
  });
});
