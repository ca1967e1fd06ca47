/**
 * The migration that creates each part the doctor checks, so a failure can name the file to apply.
 * One place to update when a file is renamed (test/migration-sources.test.ts checks they exist).
 */
export const migrationSources = {
  baseSchema: "001_base_schema.sql",
  cronJobs: "030_setup_cron_jobs.sql",
  queues: "031_setup_queues.sql",
  triggers: "032_webhook_triggers.sql",
  rpcWrappers: "033_pgmq_rpc_wrappers.sql",
  consumerWakeups: "038_trigger_wakeups.sql",
  reports: "040_reports.sql",
  operatorConsole: "041_operator_console.sql",
  consumerArchiveAndRead: "042_consumer_archive_and_read.sql",
  operatorRole: "046_operator_role_and_email_resends.sql",
} as const;

export type MigrationSource = (typeof migrationSources)[keyof typeof migrationSources];

/**
 * The fix for an object a migration creates: apply the migration; and, where it is already recorded
 * as applied (so `pnpm db:migrate` skips it), how to restore the object by hand. Migrations are
 * immutable, so a lasting repair on a shared database goes into a new migration file.
 */
export function applyMigrationFix(file: MigrationSource, restore: string): string {
  return `apply supabase/migrations/${file} (pnpm db:migrate); where it is already applied, ${restore}`;
}
