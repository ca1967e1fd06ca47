/**
 * `pnpm db:migrate` as deployed: the CLI as a process, `--dry-run`, two deploys at once, a failing file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { withClient } from "../../devstack/src/with-client.ts";
import { migrationsDirectory } from "../src/index.ts";
import { runCli, startCli } from "./support/db-cli-process.ts";

let database: TestDatabase;
let directory: string;

beforeEach(async () => {
  database = await createTestDatabase("platform");
  directory = mkdtempSync(join(tmpdir(), "db-migrate-cli-"));
});
afterEach(async () => {
  await database.drop();
  rmSync(directory, { recursive: true, force: true });
});

function write(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
}

const migrate = (...args: string[]) =>
  runCli(["migrate", "--dir", directory, ...args], { DATABASE_URL: database.url });

async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  return withClient(database.url, async (client) => (await client.query<T>(text)).rows);
}

const NOTES = `-- notes: what people write down
create table public.notes (
  id int primary key,
  body text not null
);

comment on table public.notes is 'notes; with a semicolon';
`;
const TAGS = "create table public.tags (id int primary key);\ninsert into public.tags values (1), (2);\n";

describe("pnpm db:migrate --dry-run", { timeout: 120_000 }, () => {
  it("lists the pending files and their statements' first lines, and writes nothing", async () => {
    write({ "001_notes.sql": NOTES, "002_tags.sql": TAGS });
    const result = await migrate("--dry-run");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n").slice(1)).toEqual([
      "2 to apply (0 already applied):",
      "  001_notes.sql (2 statements)",
      "    line 2: create table public.notes (",
      "    line 7: comment on table public.notes is 'notes; with a semicolon'",
      "  002_tags.sql (2 statements)",
      "    line 1: create table public.tags (id int primary key)",
      "    line 2: insert into public.tags values (1), (2)",
      "",
    ]);
    expect(result.stdout.split("\n")[0]).toMatch(
      /^dry run against postgres@127\.0\.0\.1:\d+\/t_\w+ .*: nothing is written$/,
    );
    // Not even the history table.
    expect(
      await query(
        "select to_regclass('supabase_migrations.schema_migrations') as history, to_regclass('public.notes') as notes",
      ),
    ).toEqual([{ history: null, notes: null }]);
  });

  it("after a deploy, lists only what is new", async () => {
    write({ "001_notes.sql": NOTES });
    expect((await migrate()).code).toBe(0);
    write({ "002_tags.sql": TAGS });
    const result = await migrate("--dry-run");
    expect(result.stdout).toContain("1 to apply (1 already applied):\n  002_tags.sql (2 statements)\n");
    expect(await query("select to_regclass('public.tags') as tags")).toEqual([{ tags: null }]);
  });

  it("says nothing is pending on a database with every repository migration applied", async () => {
    const migrated = await createTestDatabase("migrated");
    try {
      const result = await runCli(["migrate", "--dry-run"], { DATABASE_URL: migrated.url });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^nothing to apply \(\d+ already applied\)$/m);
      expect(migrationsDirectory).toMatch(/supabase\/migrations$/);
    } finally {
      await migrated.drop();
    }
  });

  it("fails as the deploy would on a changed applied file", async () => {
    write({ "001_notes.sql": NOTES });
    expect((await migrate()).code).toBe(0);
    write({ "001_notes.sql": `${NOTES}alter table public.notes add column extra text;\n` });
    const result = await migrate("--dry-run");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("migration 001_notes.sql was changed after it was applied");
  });
});

describe("pnpm db:migrate", { timeout: 120_000 }, () => {
  it("two deploys at once never interleave: the second waits for the whole first run, then applies nothing", async () => {
    // 002 waits on a table the test holds locked, so the first deploy is held mid-run.
    await withClient(database.url, (client) => client.query("create table public.gate (id int)"));
    write({
      "001_notes.sql": NOTES,
      "002_through_gate.sql": "insert into public.gate values (2);\n",
      "003_tags.sql": TAGS,
    });
    const gate = new pg.Client({ connectionString: database.url });
    await gate.connect();
    try {
      await gate.query("begin");
      await gate.query("lock table public.gate in access exclusive mode");
      const first = startCli(["migrate", "--dir", directory], { DATABASE_URL: database.url });
      await waitFor(async () => {
        const rows = await query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into public.gate%'",
        );
        return rows[0]?.n === 1;
      });
      const second = startCli(["migrate", "--dir", directory], { DATABASE_URL: database.url });
      await waitFor(async () => second.output().stdout.includes("another migration run is in progress"));
      await gate.query("commit");

      const [one, two] = await Promise.all([first.done, second.done]);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      expect(one.stdout).toContain(
        "applied 3: 001_notes.sql, 002_through_gate.sql, 003_tags.sql (0 already applied)",
      );
      expect(two.stdout).toContain("nothing to apply (3 already applied)");
      expect(two.stdout).not.toContain("was applied meanwhile");
    } finally {
      await gate.end();
    }
    expect(await query("select version from supabase_migrations.schema_migrations order by version")).toEqual(
      [{ version: "001" }, { version: "002" }, { version: "003" }],
    );
  });

  it("a failing file: exit 1, names file, statement and line, and leaves nothing of it behind", async () => {
    write({
      "001_notes.sql": NOTES,
      "002_broken.sql":
        "create table public.half (id int);\ninsert into public.half values (1);\nselect * from public.missing_table;\n",
    });
    const result = await migrate();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'migration 002_broken.sql failed at line 3, column 15: relation "public.missing_table" does not exist (SQLSTATE 42P01)',
    );
    expect(result.stderr).toContain("    select * from public.missing_table");
    expect(result.stderr).toContain("nothing from 002_broken.sql was applied");
    expect(
      await query("select to_regclass('public.half') as half, to_regclass('public.notes') as notes"),
    ).toEqual([{ half: null, notes: "notes" }]);
    expect(await query("select version from supabase_migrations.schema_migrations")).toEqual([
      { version: "001" },
    ]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
