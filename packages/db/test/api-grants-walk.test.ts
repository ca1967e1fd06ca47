// Every function, table, view and sequence the API exposes, walked for anon, authenticated, operator
// and service_role and compared with the one allow-list (src/api-allow-list.ts). Breakage is made in a
// transaction that is rolled back.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { allowedFunctions, allowedTables, exposedSchemas } from "../src/api-allow-list.ts";
import { walkApiGrants } from "../src/api-grants.ts";
import { migrationsDirectory } from "../src/migrations/migrations-directory.ts";

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

/**
 * Runs `breakage` as the owner in a transaction, walks, and rolls back; returns the problems the
 * breakage added (so these tests hold whatever the first test finds).
 */
async function walkAfter(breakage: string) {
  const before = new Set((await walkApiGrants(client)).problems.map((problem) => JSON.stringify(problem)));
  await client.query("begin");
  try {
    await client.query(breakage);
    const walk = await walkApiGrants(client);
    return { problems: walk.problems.filter((problem) => !before.has(JSON.stringify(problem))) };
  } finally {
    await client.query("rollback");
  }
}

describe("API grants walk", () => {
  it("finds the migrated database exactly as the allow-list says", async () => {
    const walk = await walkApiGrants(client);
    expect(walk.problems).toEqual([]);
    expect(walk.tablesChecked).toBeGreaterThanOrEqual(4);
  });

  it("finds every listed object whose migration is in supabase/migrations", async () => {
    const walk = await walkApiGrants(client);
    const entries = { ...allowedFunctions, ...allowedTables };
    const expectedAbsent = walk.absent.filter((name) =>
      existsSync(join(migrationsDirectory, entries[name]?.migration ?? "")),
    );
    expect(expectedAbsent).toEqual([]);
  });

  it("walks the schemas supabase/config.toml exposes", () => {
    const config = readFileSync(resolve(migrationsDirectory, "../config.toml"), "utf8");
    const api = config.slice(config.indexOf("[api]"), config.indexOf("\n[", config.indexOf("[api]") + 1));
    const schemas = JSON.parse(/^schemas = (\[.*\])$/m.exec(api)?.[1] ?? "null") as string[];
    expect(schemas).toEqual([...exposedSchemas]);
  });

  it("reports a pgmq function that PUBLIC (so anon) may execute", async () => {
    const walk = await walkAfter("grant execute on all functions in schema pgmq to public");
    const send = walk.problems.filter((problem) => problem.object === "pgmq.send(text, jsonb, integer)");
    expect(send.map((problem) => problem.role)).toEqual(["anon", "authenticated", "operator"]);
    expect(send[0]?.fix).toBe("revoke execute on function pgmq.send(text, jsonb, integer) from public, anon");
  });

  it("reports a console function granted to authenticated, and one the operator role lost", async () => {
    const walk = await walkAfter(`
      grant execute on function public.console_reports(integer) to authenticated;
      revoke execute on function public.console_cron_jobs() from operator`);
    expect(walk.problems.map((problem) => [problem.kind, problem.object, problem.role])).toEqual([
      ["missing", "public.console_cron_jobs()", "operator"],
      ["excess", "public.console_reports(integer)", "authenticated"],
    ]);
  });

  it("reports a public function anon may execute that the list does not allow", async () => {
    const walk = await walkAfter("grant execute on function public.is_email_address(text) to anon");
    expect(walk.problems).toEqual([
      expect.objectContaining({
        kind: "excess",
        object: "public.is_email_address(text)",
        role: "anon",
        fix: "revoke execute on function public.is_email_address(text) from public, anon",
      }),
    ]);
  });

  it("reports a function nobody listed", async () => {
    const walk = await walkAfter(
      "create function public.sneaky() returns integer language sql as 'select 1'",
    );
    expect(walk.problems).toEqual([expect.objectContaining({ kind: "unlisted", object: "public.sneaky()" })]);
  });

  it("reports a table privilege beyond the list and one the list expects", async () => {
    const walk = await walkAfter(
      "grant select on public.payments to anon; revoke select on public.profiles from authenticated",
    );
    expect(
      walk.problems.map(({ kind, object, role, privilege }) => ({ kind, object, role, privilege })),
    ).toEqual([
      { kind: "excess", object: "public.payments", role: "anon", privilege: "select" },
      { kind: "missing", object: "public.profiles", role: "authenticated", privilege: "select" },
    ]);
  });

  it("reports a table, view or sequence nobody listed", async () => {
    const walk = await walkAfter(
      "create table public.scratch (id bigserial primary key); create view public.scratch_view as select 1 as one",
    );
    expect(walk.problems.map((problem) => problem.object).sort()).toEqual([
      "public.scratch",
      "public.scratch_id_seq",
      "public.scratch_view",
    ]);
  });

  it("with isOurs, sets what is not ours apart and still reports an unlisted overload of ours", async () => {
    await client.query("begin");
    try {
      await client.query(`
        create table public.courses (id bigserial primary key);
        grant all on table public.courses to anon, authenticated, service_role;
        create function public.get_course_count() returns bigint language sql as 'select 1::bigint';
        create function public.pgmq_metrics(queue_name text, extra integer) returns integer language sql as 'select 1'`);
      const ours = (object: string, kind: "function" | "relation") =>
        kind === "function"
          ? Object.keys(allowedFunctions).some((signature) =>
              signature.startsWith(object.slice(0, object.indexOf("(") + 1)),
            )
          : object in allowedTables;
      const walk = await walkApiGrants(client, undefined, { isOurs: ours });
      expect(walk.foreign).toEqual(["public.get_course_count()", "public.courses", "public.courses_id_seq"]);
      expect(walk.problems).toEqual([
        expect.objectContaining({ kind: "unlisted", object: "public.pgmq_metrics(text, integer)" }),
      ]);
    } finally {
      await client.query("rollback");
    }
  });
});
