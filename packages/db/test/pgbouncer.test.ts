/**
 * The migration runner and the transfer through a real PgBouncer, in transaction mode (Supabase's
 * port 6543: a server connection per transaction) and in session mode (its port 5432).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, devstackInfo, type TestDatabase } from "../../devstack/src/testing.ts";
import { withClient } from "../../devstack/src/with-client.ts";
import {
  type DatabaseConfig,
  loadDatabaseConfig,
  MigrationError,
  type MigrationLog,
  migrationsDirectory,
  planMigrations,
  runMigrations,
  runTransfer,
} from "../src/index.ts";
import { type PgBouncer, pgbouncerUnavailable, startPgBouncer } from "./support/pgbouncer.ts";

const missing = pgbouncerUnavailable();

function recordingLog(): MigrationLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (line) => lines.push(line), warn: (line) => lines.push(`warn: ${line}`) };
}

describe.skipIf(missing !== undefined).each(["transaction", "session"] as const)(
  "through PgBouncer in %s mode",
  { timeout: 120_000 },
  (mode) => {
    let bouncer: PgBouncer;
    let database: TestDatabase;
    let config: DatabaseConfig;
    beforeAll(async () => {
      const info = devstackInfo();
      bouncer = await startPgBouncer({ mode, serverHost: info.host, serverPort: info.port });
      database = await createTestDatabase("platform");
      config = loadDatabaseConfig({ DATABASE_URL: bouncer.url(database.url), DATABASE_POOL_MODE: mode });
    });
    afterAll(async () => {
      await bouncer?.stop();
      await database?.drop();
    });

    it(`really is in ${mode} mode: a client keeps its server connection only in session mode`, async () => {
      const url = bouncer.url(database.url);
      const a = new pg.Client({ connectionString: url });
      const b = new pg.Client({ connectionString: url });
      await a.connect();
      await b.connect();
      try {
        const pid = async (client: pg.Client) =>
          (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
        const first = await pid(a);
        await b.query("begin");
        const held = await pid(b); // transaction mode: b takes the server connection a just released
        const second = await pid(a);
        await b.query("commit");
        if (mode === "transaction") {
          expect(held).toBe(first);
          expect(second).not.toBe(first);
        } else {
          expect(held).not.toBe(first);
          expect(second).toBe(first);
        }
      } finally {
        await a.end();
        await b.end();
      }
    });

    it("applies every repository migration, then nothing on a second run", async () => {
      const log = recordingLog();
      const first = await runMigrations({ config, directory: migrationsDirectory, log });
      const files = readdirSync(migrationsDirectory).filter((name) => /^\d+_.+\.sql$/.test(name));
      expect(first.applied).toEqual(files.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)));
      const second = await runMigrations({ config, directory: migrationsDirectory, log });
      expect(second).toEqual({ applied: [], alreadyApplied: first.applied });
      const notes = log.lines.filter((line) => line.startsWith("transaction pool mode:"));
      // One line per run that says why runs are serialised per file only.
      expect(notes).toHaveLength(mode === "transaction" ? 2 : 0);
      const plan = await planMigrations({ config, directory: migrationsDirectory });
      expect(plan.pending).toEqual([]);
    });

    it("two runners at once apply each file exactly once", async () => {
      const directory = mkdtempSync(join(tmpdir(), "db-pgbouncer-"));
      const scratch = await createTestDatabase("bare");
      try {
        writeFileSync(
          join(directory, "001_runs.sql"),
          "create table public.runs (id int);\ninsert into public.runs values (1);\n",
        );
        writeFileSync(join(directory, "002_more.sql"), "insert into public.runs values (2);\n");
        const target = {
          config: loadDatabaseConfig({ DATABASE_URL: bouncer.url(scratch.url), DATABASE_POOL_MODE: mode }),
          directory,
        };
        const results = await Promise.all([runMigrations(target), runMigrations(target)]);
        expect(results.flatMap((result) => result.applied).sort()).toEqual(["001_runs.sql", "002_more.sql"]);
        const rows = await withClient(
          scratch.url,
          async (client) => (await client.query("select id from public.runs order by id")).rows,
        );
        expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
        await scratch.drop();
      }
    });

    it("rolls a failing file back whole and names its statement and line", async () => {
      const directory = mkdtempSync(join(tmpdir(), "db-pgbouncer-"));
      const scratch = await createTestDatabase("bare");
      try {
        writeFileSync(
          join(directory, "001_broken.sql"),
          "create table public.half (id int primary key);\ninsert into public.half values (1);\ninsert into public.half values (1);\n",
        );
        const error = await runMigrations({
          config: loadDatabaseConfig({ DATABASE_URL: bouncer.url(scratch.url), DATABASE_POOL_MODE: mode }),
          directory,
        }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(MigrationError);
        expect(error).toMatchObject({ file: "001_broken.sql", line: 3, sqlState: "23505" });
        const rows = await withClient(
          scratch.url,
          async (client) => (await client.query("select to_regclass('public.half') as half")).rows,
        );
        expect(rows).toEqual([{ half: null }]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
        await scratch.drop();
      }
    });

    it("transfers into a target behind the pooler, verified equal", async () => {
      const [source, target] = await Promise.all([createTestDatabase("bare"), createTestDatabase("bare")]);
      const backups = mkdtempSync(join(tmpdir(), "db-pgbouncer-backup-"));
      try {
        const table = "create table public.items (a int, b text, doc jsonb, primary key (a, b));";
        await withClient(source.url, (client) =>
          client.query(
            `${table} insert into public.items select i, 'k' || (i % 3), jsonb_build_object('i', i) from generate_series(1, 1000) i;`,
          ),
        );
        await withClient(target.url, (client) =>
          client.query(`${table} alter table public.items enable row level security;`),
        );
        const report = await runTransfer({
          from: loadDatabaseConfig({ DATABASE_URL: source.url }),
          to: loadDatabaseConfig({ DATABASE_URL: bouncer.url(target.url), DATABASE_POOL_MODE: mode }),
          tables: ["public.items"],
          schemaMap: new Map(),
          batchSize: 150,
          backup: { method: "auto", directory: backups },
          triggers: "skip",
          restart: false,
          log: { info: () => undefined, warn: () => undefined },
          progress: process.stderr,
        });
        expect(report.tables).toEqual([
          { source: "public.items", target: "public.items", inserted: 1000, skipped: 0, resumedAfter: 0 },
        ]);
        expect(report.equal).toBe(true);
      } finally {
        rmSync(backups, { recursive: true, force: true });
        await Promise.all([source.drop(), target.drop()]);
      }
    });
  },
);

if (missing) {
  describe("through PgBouncer", () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
