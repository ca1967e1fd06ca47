import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import {
  loadDatabaseConfig,
  MigrationChangedError,
  MigrationError,
  MigrationFileError,
  type MigrationLog,
  runMigrations,
} from "../src/index.ts";

let database: TestDatabase;
let directory: string;

beforeEach(async () => {
  database = await createTestDatabase("platform");
  directory = mkdtempSync(join(tmpdir(), "db-migrations-"));
});
afterEach(async () => {
  await database.drop();
  rmSync(directory, { recursive: true, force: true });
});

function write(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
}

async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function history(): Promise<{ version: string; name: string; statements: string[] }[]> {
  return query(
    "select version, name, statements from supabase_migrations.schema_migrations order by version",
  );
}

async function tableExists(name: string): Promise<boolean> {
  const rows = await query<{ found: boolean }>(`select to_regclass('${name}') is not null as found`);
  return rows[0]?.found ?? false;
}

function recordingLog(): MigrationLog & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (line) => warnings.push(line), info: (line) => infos.push(line) };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the run to fail");
}

const FIRST = "create table public.notes (id int primary key, body text not null);\n";
const SECOND = "alter table public.notes add column created_at timestamptz not null default now();\n";

describe("runMigrations", () => {
  it("applies every file in number order and records each in supabase_migrations.schema_migrations", async () => {
    write({
      "9_create_notes.sql": FIRST,
      "10_add_created_at.sql": SECOND, // sorts before 9_ as text, after it as a number
      "README.md": "not a migration",
    });
    const result = await runMigrations({ connectionString: database.url, directory });
    expect(result).toEqual({ applied: ["9_create_notes.sql", "10_add_created_at.sql"], alreadyApplied: [] });
    expect(await history()).toEqual([
      { version: "10", name: "add_created_at", statements: [SECOND] },
      { version: "9", name: "create_notes", statements: [FIRST] },
    ]);
  });

  it("applies nothing on a second run and reports the files as already applied", async () => {
    write({ "001_create_notes.sql": FIRST, "002_add_created_at.sql": SECOND });
    await runMigrations({ connectionString: database.url, directory });
    const again = await runMigrations({ connectionString: database.url, directory });
    expect(again).toEqual({
      applied: [],
      alreadyApplied: ["001_create_notes.sql", "002_add_created_at.sql"],
    });
    expect(await history()).toHaveLength(2);
  });

  it("applies only the new file when one is added", async () => {
    write({ "001_create_notes.sql": FIRST });
    await runMigrations({ connectionString: database.url, directory });
    write({ "002_add_created_at.sql": SECOND });
    const result = await runMigrations({ connectionString: database.url, directory });
    expect(result).toEqual({ applied: ["002_add_created_at.sql"], alreadyApplied: ["001_create_notes.sql"] });
  });

  it("runs multi-statement files with dollar-quoted bodies, semicolons in strings and comments", async () => {
    write({
      "001_functions.sql": `-- a comment; with a semicolon
create table public.events (id serial primary key, label text);
/* block; comment */
create function public.add_event(label text) returns int language plpgsql as $body$
declare
  new_id int;
begin
  insert into public.events (label) values (label) returning id into new_id;
  return new_id;
end;
$body$;
insert into public.events (label) values ('semi;colon'), (E'it\\'s; fine');
select public.add_event('from function');
`,
    });
    await runMigrations({ connectionString: database.url, directory });
    const rows = await query<{ label: string }>("select label from public.events order by id");
    expect(rows.map((row) => row.label)).toEqual(["semi;colon", "it's; fine", "from function"]);
  });

  it("starts every file from the connection's own settings, whatever the previous file set", async () => {
    write({
      "001_strict_path.sql": "set search_path = '';\ncreate table public.first (id int);\n",
      "002_unqualified.sql": "create table second (id int);\n",
    });
    await runMigrations({ connectionString: database.url, directory });
    expect(await tableExists("public.second")).toBe(true);
  });

  it("refuses a file changed after it was applied, and applies nothing after it", async () => {
    write({ "001_create_notes.sql": FIRST });
    await runMigrations({ connectionString: database.url, directory });
    write({
      "001_create_notes.sql": FIRST.replace("body text", "body varchar(100)"),
      "002_add_created_at.sql": SECOND,
    });
    const error = await failure(runMigrations({ connectionString: database.url, directory }));
    expect(error).toBeInstanceOf(MigrationChangedError);
    expect(error).toMatchObject({ code: "migration_changed", file: "001_create_notes.sql" });
    expect((error as Error).message).toContain("migrations are immutable once applied: add a new file");
    expect(await history()).toHaveLength(1);
  });

  it("rolls a failing file back completely and names the file, the statement and its line", async () => {
    write({
      "001_create_notes.sql": FIRST,
      "002_broken.sql": [
        "create table public.tags (id int primary key);",
        "insert into public.tags values (1);",
        "",
        "insert into public.notes (id, body)",
        "select id, 'tag ' || id from public.missing_table;",
        "create table public.after_the_error (id int);",
      ].join("\n"),
    });
    const error = await failure(runMigrations({ connectionString: database.url, directory }));
    expect(error).toBeInstanceOf(MigrationError);
    const migrationError = error as MigrationError;
    expect(migrationError).toMatchObject({
      code: "migration_failed",
      file: "002_broken.sql",
      line: 5,
      sqlState: "42P01",
      pgMessage: 'relation "public.missing_table" does not exist',
    });
    expect(migrationError.statement).toContain(
      "insert into public.notes (id, body)\nselect id, 'tag ' || id from public.missing_table",
    );
    expect(migrationError.message).toMatch(
      /^migration 002_broken.sql failed at line 5, column \d+: relation/,
    );
    expect(migrationError.message).toContain("nothing from 002_broken.sql was applied");
    // Nothing of 002 survives; 001 stays applied and recorded.
    expect(await tableExists("public.tags")).toBe(false);
    expect(await tableExists("public.notes")).toBe(true);
    expect((await history()).map((row) => row.version)).toEqual(["001"]);
  });

  it("finds the failing statement when the server gives no position (a duplicate key)", async () => {
    write({
      "001_seed.sql": [
        "create table public.codes (code text primary key);",
        "insert into public.codes values ('a');",
        "insert into public.codes values ('b');",
        "insert into public.codes",
        "  values ('a');",
      ].join("\n"),
    });
    const error = (await failure(
      runMigrations({ connectionString: database.url, directory }),
    )) as MigrationError;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ file: "001_seed.sql", line: 4, sqlState: "23505" });
    expect(error.statement).toBe("insert into public.codes\n  values ('a')");
    expect(await tableExists("public.codes")).toBe(false);
  });

  it("finds the failing statement of an exception raised inside a do block", async () => {
    write({
      "001_check.sql": [
        "create table public.flags (id int);",
        "do $$",
        "begin",
        "  raise exception 'flags are not ready';",
        "end",
        "$$;",
      ].join("\n"),
    });
    const error = (await failure(
      runMigrations({ connectionString: database.url, directory }),
    )) as MigrationError;
    expect(error).toMatchObject({ line: 2, pgMessage: "flags are not ready" });
    expect(error.statement).toContain("raise exception 'flags are not ready'");
  });

  it("lets two concurrent runners apply each file exactly once", async () => {
    write({
      "001_slow.sql":
        "create table public.runs (id int);\nselect pg_sleep(0.3);\ninsert into public.runs values (1);\n",
      "002_more.sql": "insert into public.runs values (2);\n",
    });
    const [first, second] = await Promise.all([
      runMigrations({ connectionString: database.url, directory }),
      runMigrations({ connectionString: database.url, directory }),
    ]);
    expect([...first.applied, ...second.applied].sort()).toEqual(["001_slow.sql", "002_more.sql"]);
    // Each runner accounts for both files: applied by itself, or by the other one.
    for (const result of [first, second]) {
      expect([...result.applied, ...result.alreadyApplied].sort()).toEqual(["001_slow.sql", "002_more.sql"]);
    }
    expect(await query("select id from public.runs order by id")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await history()).toHaveLength(2);
  });

  it("warns about a recorded version whose file is missing, without failing", async () => {
    write({ "001_create_notes.sql": FIRST, "002_add_created_at.sql": SECOND });
    await runMigrations({ connectionString: database.url, directory });
    rmSync(join(directory, "002_add_created_at.sql"));
    const log = recordingLog();
    const result = await runMigrations({ connectionString: database.url, directory, log });
    expect(result).toEqual({ applied: [], alreadyApplied: ["001_create_notes.sql"] });
    expect(log.warnings).toEqual([
      expect.stringContaining("002_add_created_at.sql is recorded as applied but has no file"),
    ]);
  });

  it("refuses a file that commits by itself, before applying anything", async () => {
    write({
      "001_create_notes.sql": FIRST,
      "002_own_transaction.sql": "begin;\ncreate table public.tags (id int);\ncommit;\n",
    });
    const error = await failure(runMigrations({ connectionString: database.url, directory }));
    expect(error).toBeInstanceOf(MigrationFileError);
    expect(error).toMatchObject({ code: "invalid_migration_file", file: "002_own_transaction.sql" });
    expect((error as Error).message).toMatch(/line 1 has "begin": remove begin\/commit/);
    expect(await tableExists("public.notes")).toBe(false);
  });

  it("refuses two files with the same number", async () => {
    write({ "001_create_notes.sql": FIRST, "1_other.sql": SECOND });
    const error = await failure(runMigrations({ connectionString: database.url, directory }));
    expect(error).toBeInstanceOf(MigrationFileError);
    expect((error as Error).message).toMatch(/have the same number: renumber the newer one/);
  });

  it("skips .sql files not named NNN_name.sql, with a warning", async () => {
    write({ "001_create_notes.sql": FIRST, "seed.sql": "select 1;" });
    const log = recordingLog();
    const result = await runMigrations({ connectionString: database.url, directory, log });
    expect(result.applied).toEqual(["001_create_notes.sql"]);
    expect(log.warnings).toEqual([expect.stringContaining("skipping seed.sql")]);
  });

  it("reuses a history table the Supabase CLI created, adding the columns the CLI adds", async () => {
    await query(
      "create schema supabase_migrations; create table supabase_migrations.schema_migrations (version text not null primary key)",
    );
    write({ "001_create_notes.sql": FIRST });
    await runMigrations({ connectionString: database.url, directory });
    const columns = await query<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns
       where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "version", data_type: "text" },
      { column_name: "statements", data_type: "ARRAY" },
      { column_name: "name", data_type: "text" },
    ]);
  });

  it("accepts a loaded DatabaseConfig instead of a connection string", async () => {
    write({ "001_create_notes.sql": FIRST });
    const config = loadDatabaseConfig({ DATABASE_URL: database.url });
    expect((await runMigrations({ config, directory })).applied).toEqual(["001_create_notes.sql"]);
  });

  it("reports a missing directory", async () => {
    const error = await failure(
      runMigrations({ connectionString: database.url, directory: join(directory, "nope") }),
    );
    expect(error).toBeInstanceOf(MigrationFileError);
    expect((error as Error).message).toMatch(/cannot be read \(ENOENT\)/);
  });
});
