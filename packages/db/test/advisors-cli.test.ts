/**
 * `pnpm db:advisors --splinter <file>`: runs advisor SQL the operator supplies (Supabase's splinter;
 * here small synthetic lints in both of its forms) against a database and prints what they find.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { withClient } from "../../devstack/src/with-client.ts";
import { runCli } from "./support/db-cli-process.ts";

let database: TestDatabase;
let directory: string;

beforeAll(async () => {
  database = await createTestDatabase("platform");
  directory = mkdtempSync(join(tmpdir(), "db-advisors-cli-"));
  await withClient(database.url, (client) =>
    client.query(`
      create table public.open_notes (id int primary key, body text);
      create table public.closed_notes (id int primary key, body text);
      alter table public.closed_notes enable row level security;
      create function public.loose() returns int language sql as 'select 1';`),
  );
});
afterAll(async () => {
  await database?.drop();
  rmSync(directory, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

// As splinter.sql: `set local`, then one query of every lint, union all.
const COMBINED = `set local search_path = '';
(select 'table_without_rls' as name, 'ERROR' as level, 'EXTERNAL' as facing,
        format('Table %s.%s has no RLS', n.nspname, c.relname) as detail
   from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname = 'public' and not c.relrowsecurity)
union all
(select 'loose_function', 'WARN', 'EXTERNAL', format('Function %s.%s', n.nspname, p.proname)
   from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and p.proconfig is null)
union all
(select 'table_with_rls', 'INFO', 'EXTERNAL', format('Table %s.%s', n.nspname, c.relname)
   from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname = 'public' and c.relrowsecurity)`;

// As splinter's lints/ files: one view per lint in schema lint.
const VIEWS = `create view lint."0001_loose_function" as
select 'loose_function' as name, 'WARN' as level, format('Function %s', p.proname) as detail
  from pg_catalog.pg_proc p where p.pronamespace = 'public'::regnamespace and p.proconfig is null;
create view lint."0002_nothing" as
select 'nothing' as name, 'ERROR' as level, 'never' as detail where false;`;

describe("db advisors --splinter", () => {
  it("prints every ERROR and WARN with its detail, counts INFO, and fails on an ERROR", async () => {
    const result = await runCli(["advisors", "--splinter", file("combined.sql", COMBINED)], {
      DATABASE_URL: database.url,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("ERROR  table_without_rls  Table public.open_notes has no RLS");
    expect(result.stdout).toContain("WARN   loose_function  Function public.loose");
    expect(result.stdout).not.toContain("Table public.closed_notes");
    expect(result.stdout).toContain("1 ERROR, 1 WARN, 1 INFO");
  });

  it("runs lint files as views, leaves nothing behind, and exits 0 without an ERROR", async () => {
    const result = await runCli(["advisors", "--splinter", file("views.sql", VIEWS), "--info"], {
      DATABASE_URL: database.url,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("WARN   loose_function  Function loose");
    expect(result.stdout).toContain("0 ERROR, 1 WARN, 0 INFO");
    const schemas = await withClient(database.url, (client) =>
      client.query("select 1 from pg_namespace where nspname = 'lint'"),
    );
    expect(schemas.rowCount).toBe(0);
  });

  it("reports a file that does not run with the database's message, and still runs the others", async () => {
    const broken = file("broken.sql", "select name, level, detail from storage.buckets_lint");
    const result = await runCli(["advisors", "--splinter", broken, "--splinter", file("views2.sql", VIEWS)], {
      DATABASE_URL: database.url,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${broken}: did not run: relation "storage.buckets_lint" does not exist`);
    expect(result.stdout).toContain("WARN   loose_function  Function loose");
  });

  it("names what is missing: the file and the database", async () => {
    const result = await runCli(["advisors"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--splinter: give at least one file");
    expect(result.stderr).toContain("DATABASE_URL: not set");
  });
});
