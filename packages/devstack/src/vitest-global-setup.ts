import type { TestProject } from "vitest/node";
import type { DevstackInfo } from "./devstack-info.ts";
import { applyMigrations, installPgCron, installPlatform } from "./prepare-database.ts";
import { CRON_DATABASE, describePostgres } from "./start-postgres.ts";
import { startThrowawayPostgres } from "./start-throwaway-postgres.ts";
import { withDatabase } from "./testing.ts";
import { withClient } from "./with-client.ts";

const TEMPLATES = { bare: "tpl_bare", platform: "tpl_platform", migrated: "tpl_migrated" } as const;

/**
 * vitest global setup: one PostgreSQL cluster per test run (fresh, fsync off), and template databases
 * that each test file clones with `createTestDatabase()`, so files run in parallel on their own data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await startThrowawayPostgres({ prefix: "balansity-pg-" });
  const { cluster } = started;
  try {
    if (cluster.pgCron) await installPgCron(withDatabase(cluster.adminUrl, CRON_DATABASE));
    await withClient(cluster.adminUrl, async (client) => {
      await client.query(`create database ${TEMPLATES.bare}`);
      await client.query(`create database ${TEMPLATES.platform}`);
    });
    const pgmqExtension = await installPlatform(withDatabase(cluster.adminUrl, TEMPLATES.platform));
    await withClient(cluster.adminUrl, (client) =>
      client.query(`create database ${TEMPLATES.migrated} template ${TEMPLATES.platform}`),
    );
    await applyMigrations(withDatabase(cluster.adminUrl, TEMPLATES.migrated));

    const info: DevstackInfo = {
      flavor: started.flavor,
      majorVersion: cluster.majorVersion,
      host: cluster.host,
      port: cluster.port,
      adminUrl: cluster.adminUrl,
      pgCron: cluster.pgCron,
      cronDatabase: CRON_DATABASE,
      pgmqExtension,
      templates: TEMPLATES,
    };
    project.provide("devstack", info);
    console.log(`[devstack] ${describePostgres(started, pgmqExtension)}`);
  } catch (error) {
    await started.stop();
    throw error;
  }

  return () => started.stop();
}
