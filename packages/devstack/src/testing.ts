import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { DevstackInfo } from "./devstack-info.ts";

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
  const admin = new pg.Client({ connectionString: info.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${info.templates[template]}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(info.adminUrl, name);
  return {
    name,
    url,
    async drop() {
      const client = new pg.Client({ connectionString: info.adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The same connection string pointed at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
