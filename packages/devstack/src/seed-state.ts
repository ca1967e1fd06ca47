/**
 * A database in the state Balansity's live project is in (TEST FIXTURE): Supabase's roles and
 * `auth` schema, the app's tables with columns of their own and rows, the seed-era 030–033 applied by
 * hand (nothing recorded in `supabase_migrations.schema_migrations`), the app's and the seed era's
 * own functions, pg_cron in schema `public` with the seed-era jobs and a job of the team's own with
 * run history (where the server has pg_cron), and a backlog in the seed-era message shapes in all four
 * queues. Built from what the seed-era team hand-applied; see sql/seed-state/*.sql.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { installPlatform } from "./prepare-database.ts";
import { withClient } from "./with-client.ts";

const file = (name: string) => fileURLToPath(new URL(`../sql/seed-state/${name}`, import.meta.url));

/** The team's own cron job (not the automation's): it and its run history must survive adoption. */
export const TEAM_CRON_JOB = "refresh-specialist-stats";

/** The seed-era cron jobs, by the names the seed era scheduled them under. */
export const SEED_CRON_JOBS = [
  "update-appointment-statuses",
  "cleanup-old-assessments",
  "send-appointment-reminders",
] as const;

export interface SeedStateOptions {
  /** Create pg_cron (in `public`) with the seed-era and the team's jobs: only in the cluster's cron database. */
  readonly pgCron: boolean;
}

/**
 * Turns the database at `connectionString` (bare, or with the devstack's platform objects) into the
 * seed-era state. Each file runs in one transaction.
 *
 * ### Examples
 * ```ts
 * await buildSeedState(db.url, { pgCron: false });
 * ```
 */
export async function buildSeedState(connectionString: string, options: SeedStateOptions): Promise<void> {
  await installPlatform(connectionString);
  const files = ["01-app-tables.sql", "02-seed-030-033.sql"];
  if (options.pgCron) files.push("03-seed-cron.sql");
  files.push("04-backlog.sql");
  await withClient(connectionString, async (client) => {
    for (const name of files) {
      await client.query("begin");
      try {
        await client.query(readFileSync(file(name), "utf8"));
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        throw new Error(`seed state: ${name} failed: ${(error as Error).message}`);
      }
    }
  });
}
