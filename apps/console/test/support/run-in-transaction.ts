import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import type { Check, CheckResult } from "../../src/doctor/check.ts";
import { runChecks } from "../../src/doctor/run-checks.ts";

/**
 * Breaks the database with `breakIt` inside a transaction, runs one check there, and rolls back, so
 * every test starts from the migrated state. `then` runs in the same transaction after the check
 * (e.g. apply the printed fix and check again).
 */
export async function checkAfter(
  client: pg.Client,
  breakIt: string,
  check: Check,
  then?: (result: CheckResult) => Promise<void>,
): Promise<CheckResult> {
  await client.query("begin");
  try {
    await client.query(breakIt);
    const result = await runOne(client, check);
    if (then) await then(result);
    return result;
  } finally {
    await client.query("rollback");
  }
}

export async function runOne(client: pg.Client, check: Check): Promise<CheckResult> {
  const [result] = await runChecks(client, [check]);
  if (result === undefined) throw new Error(`check ${check.name} returned no result`);
  return result;
}

/** The SQL part of a printed fix: the text after `prefix` (if given), up to a `; (` explanation. */
export function fixSql(fix: string | undefined, prefix?: string): string {
  if (fix === undefined) throw new Error("the finding has no fix");
  const start = prefix === undefined ? 0 : fix.indexOf(prefix) + prefix.length;
  if (prefix !== undefined && start < prefix.length) throw new Error(`fix has no "${prefix}": ${fix}`);
  const sql = fix.slice(start);
  const explanation = sql.indexOf("; (");
  return explanation === -1 ? sql : sql.slice(0, explanation);
}

/**
 * A migrations directory holding exactly what this database recorded as applied, so tests of the
 * migrations check do not depend on edits made to supabase/migrations after the template was built.
 */
export async function snapshotAppliedMigrations(client: pg.Client): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "console-migrations-"));
  const { rows } = await client.query<{ version: string; name: string; statements: string[] }>(
    "select version, name, statements from supabase_migrations.schema_migrations order by version",
  );
  for (const row of rows) {
    await writeFile(join(directory, `${row.version}_${row.name}.sql`), row.statements.join("\n"));
  }
  return directory;
}
