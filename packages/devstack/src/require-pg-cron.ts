// CI check, run after apt installed PostgreSQL and pg_cron: a throwaway cluster on the system
// PostgreSQL must preload pg_cron and create the extension, the way the tests start theirs. Exits 1
// with the reason otherwise, so a green CI run cannot silently lack pg_cron.
//
//   pnpm --filter @balansity/devstack exec tsx src/require-pg-cron.ts
import { installPgCron } from "./prepare-database.ts";
import { CRON_DATABASE } from "./start-postgres.ts";
import { startThrowawayPostgres } from "./start-throwaway-postgres.ts";
import { withDatabase } from "./testing.ts";
import { withClient } from "./with-client.ts";

async function main(): Promise<void> {
  const postgres = await startThrowawayPostgres({
    prefix: "balansity-pg-cron-check-",
    env: { ...process.env, DEVSTACK_POSTGRES: "system" },
  });
  try {
    const { cluster } = postgres;
    if (!cluster.pgCron) {
      throw new Error(`PostgreSQL ${cluster.majorVersion} in ${postgres.binDir} has no pg_cron to preload`);
    }
    const url = withDatabase(cluster.adminUrl, CRON_DATABASE);
    await installPgCron(url);
    const version = await withClient(url, (client) =>
      client.query<{ extversion: string }>("select extversion from pg_extension where extname = 'pg_cron'"),
    );
    console.log(
      `[ci] pg_cron ${version.rows[0]?.extversion} loads on PostgreSQL ${cluster.majorVersion} (${postgres.binDir})`,
    );
  } finally {
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`[ci] pg_cron is not loadable: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
