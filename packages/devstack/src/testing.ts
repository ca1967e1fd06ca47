import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { DevstackInfo } from "./devstack-info.ts";
import { withClient } from "./with-client.ts";

/** A fresh database for one test file, cloned from a template the global setup prepared. */
export interface TestDatabase {
  /** The database name (`t_<random>`). */
  readonly name: string;
  /** Superuser connection string for this database. */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

export type TestTemplate =
  /** Supabase platform objects + pgmq + every migration in supabase/migrations. */
  | "migrated"
  /** Supabase platform objects + pgmq, no migrations (for migration-runner tests). */
  | "platform"
  /** A bare database: nothing but what `initdb` makes. */
  | "bare";

/** Where the cluster of this test run is and what it can do (set by the vitest global setup). */
export function devstackInfo(): DevstackInfo {
  const info = inject("devstack");
  if (!info) {
    throw new Error(
      'devstack is not running: add globalSetup: ["@balansity/devstack/vitest-global-setup"] to vitest.config.ts',
    );
  }
  return info;
}

/**
 * Creates a database for the calling test file by cloning a prepared template (tens of milliseconds).
 *
 * ### Examples
 * ```ts
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 * ```
 */
export async function createTestDatabase(template: TestTemplate = "migrated"): Promise<TestDatabase> {
  const info = devstackInfo();
  const name = `t_${randomBytes(6).toString("hex")}`;
  await withClient(info.adminUrl, (admin) =>
    admin.query(`create database ${name} template ${info.templates[template]}`),
  );
  const url = withDatabase(info.adminUrl, name);
  return {
    name,
    url,
    async drop() {
      await withClient(info.adminUrl, async (admin) => {
        // Pools ended a moment ago may still be closing their connections: let them go first, so the
        // force below meets only connections really left behind (a forced one reaches its client as
        // an error event, which an ended pool no longer listens for).
        const deadline = Date.now() + 2_000;
        while (Date.now() < deadline) {
          const { rows } = await admin.query<{ n: number }>(
            "select count(*)::int as n from pg_catalog.pg_stat_activity where datname = $1",
            [name],
          );
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await admin.query(`drop database if exists ${name} with (force)`);
      });
    },
  };
}

/** The same connection string pointed at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A test database with a pool on it (superuser); `close()` ends the pool and drops the database. */
export interface OpenTestDatabase {
  readonly db: TestDatabase;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * {@link createTestDatabase} plus a pool, for the common case of one file, one database.
 *
 * ### Examples
 * ```ts
 * let database: OpenTestDatabase;
 * beforeAll(async () => { database = await openTestDatabase(); });
 * afterAll(() => database.close());
 * ```
 */
export async function openTestDatabase(
  template: TestTemplate = "migrated",
  max = 4,
): Promise<OpenTestDatabase> {
  const db = await createTestDatabase(template);
  const pool = new pg.Pool({ connectionString: db.url, max });
  // `drop database … with (force)` can reach a connection the pool is still closing; the server's
  // "terminating connection" then arrives as an idle-client error, which is expected here.
  pool.on("error", () => undefined);
  return {
    db,
    pool,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}
