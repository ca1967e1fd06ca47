/**
 * The migration that creates each part the doctor checks besides functions (whose migrations are in
 * the API allow-list of @balansity/db), so a failure can name the file to apply. One place to update
 * when a file is renamed (test/migration-sources.test.ts checks they exist).
 */
export const migrationSources = {
  cronJobs: "030_setup_cron_jobs.sql",
  queues: "031_setup_queues.sql",
  triggers: "032_webhook_triggers.sql",
  operatorRole: "046_operator_role_and_email_resends.sql",
} as const;

/**
 * The fix for an object a migration creates: apply the migration; and, where it is already recorded
 * as applied (so `pnpm db:migrate` skips it), how to restore the object by hand. Migrations are
 * immutable, so a lasting repair on a shared database goes into a new migration file.
 */
export function applyMigrationFix(file: string, restore: string): string {
  return `apply supabase/migrations/${file} (pnpm db:migrate); where it is already applied, ${restore}`;
}

/**
 * How to restore one of our functions by hand: supabase/schema.sql holds its current definition and
 * grants (a later migration may have replaced what the creating one declared).
 */
export function restoreFunctionFix(signatureOrName: string): string {
  return `re-create it as supabase/schema.sql shows it (the block "-- function ${signatureOrName}": definition and grants), in a new migration`;
}
