import { createHash } from "node:crypto";
import type pg from "pg";
import type { MigrationFile } from "./migration-files.ts";

/**
 * The Supabase CLI's migration history, `supabase_migrations.schema_migrations`. We create it the
 * way the CLI does (`pkg/migration/history.go`: a `version` primary key, then `statements text[]`
 * and `name text` added if missing) and add no columns, so `supabase migration list` and
 * `supabase db push` read what we record, and we read what they record.
 *
 * The CLI stores a file split into statements; we store the whole file as the one element of
 * `statements`, so a changed file is detected by comparing text.
 */

/** A row of the history. */
export interface AppliedMigration {
  readonly version: string;
  readonly name: string | null;
  readonly statements: readonly string[] | null;
}

/** Serialises runners on one database; released when the holding transaction ends. */
export async function lockMigrations(client: pg.ClientBase): Promise<void> {
  await client.query(
    "select pg_advisory_xact_lock(hashtextextended('supabase_migrations.schema_migrations', 0))",
  );
}

/** Creates the schema and table if missing, under the lock (concurrent `if not exists` can collide). */
export async function ensureHistoryTable(client: pg.ClientBase): Promise<void> {
  await client.query("begin");
  try {
    await lockMigrations(client);
    await client.query("create schema if not exists supabase_migrations");
    await client.query(
      "create table if not exists supabase_migrations.schema_migrations (version text not null primary key)",
    );
    await client.query(
      "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
    );
    await client.query(
      "alter table supabase_migrations.schema_migrations add column if not exists name text",
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
}

/** Every recorded migration, by version. */
export async function readHistory(client: pg.ClientBase): Promise<Map<string, AppliedMigration>> {
  const { rows } = await client.query<AppliedMigration>(
    "select version, name, statements from supabase_migrations.schema_migrations order by version",
  );
  return new Map(rows.map((row) => [row.version, row]));
}

/** One recorded migration, or `undefined`. */
export async function readApplied(
  client: pg.ClientBase,
  version: string,
): Promise<AppliedMigration | undefined> {
  const { rows } = await client.query<AppliedMigration>(
    "select version, name, statements from supabase_migrations.schema_migrations where version = $1",
    [version],
  );
  return rows[0];
}

/** Records a file as applied, in the caller's transaction. */
export async function recordMigration(client: pg.ClientBase, file: MigrationFile): Promise<void> {
  await client.query(
    "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
    [file.version, file.name, [file.content]],
  );
}

/**
 * Whether a recorded migration still matches its file: `true`, `false`, or `"unknown"` when the row
 * was written by the Supabase CLI (split into several statements) and cannot be compared exactly.
 */
export function matchesFile(applied: AppliedMigration, file: MigrationFile): boolean | "unknown" {
  const statements = applied.statements;
  if (statements === null || statements.length === 0) return "unknown";
  if (statements.length > 1) return "unknown";
  const [recorded = ""] = statements;
  return (
    recorded === file.content ||
    recorded.trim() === file.content.trim() ||
    isSupersededText(file.version, recorded)
  );
}

/**
 * Earlier texts of migration files that were changed after landing, by SHA-256, per version. A
 * database that recorded one of them ran a version whose effect the current text keeps everywhere
 * it already ran; only databases that have not run it yet see the difference. Add to this list
 * only for that kind of fix, with the reason.
 */
const SUPERSEDED_TEXTS: Readonly<Record<string, readonly string[]>> = {
  // 039 dropped and re-created pg_cron when it was not in pg_catalog, deleting every job and all
  // run history; it now leaves pg_cron where it is when cron.job holds jobs that are not ours
  // (docs/adopt-existing-database.md). Where the old text ran, pg_cron was moved already.
  "039": ["9ea5e5e43e93b23d6c5155e04ac4f2119c7a42231c769590d8f0b3273dc810f5"],
};

/** Whether `recorded` is an earlier text of migration `version` that a later fix superseded. */
export function isSupersededText(version: string, recorded: string): boolean {
  const known = SUPERSEDED_TEXTS[version];
  if (known === undefined) return false;
  return known.includes(createHash("sha256").update(recorded).digest("hex"));
}
