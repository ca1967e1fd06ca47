// pg_cron lives in schema pg_catalog, as Supabase creates it (its advisors warn
// extension_in_public otherwise). 039 moves a pg_cron created elsewhere and schedules its jobs again
// from automation.cron_jobs. pg_cron exists only in the cluster's cron database (`postgres` of this
// test run's throw-away cluster), so this file migrates that one. Skipped where the server has no pg_cron.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Paths, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { applyMigrations, installPgCron, installPlatform } from "../../devstack/src/prepare-database.ts";
import { devstackInfo, withDatabase } from "../../devstack/src/testing.ts";

const info = devstackInfo();
let client: pg.Client;
let url: string;

async function pgCronSchema(): Promise<string | undefined> {
  const { rows } = await client.query<{ schema: string }>(
    "select extnamespace::regnamespace::text as schema from pg_catalog.pg_extension where extname = 'pg_cron'",
  );
  return rows[0]?.schema;
}

describe.runIf(info.pgCron)("pg_cron's schema", () => {
  beforeAll(async () => {
    url = withDatabase(info.adminUrl, info.cronDatabase);
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
  });

  it("is pg_catalog where the devstack creates it", async () => {
    await installPgCron(url);
    expect(await pgCronSchema()).toBe("pg_catalog");
  });

  it("is moved to pg_catalog by the migrations, with every enabled job scheduled again", async () => {
    // As 030 created it on a database that had no pg_cron yet: in the current schema, public.
    await client.query("drop extension pg_cron");
    await client.query("create extension pg_cron schema public");
    expect(await pgCronSchema()).toBe("public");

    await installPlatform(url);
    await applyMigrations(url);

    expect(await pgCronSchema()).toBe("pg_catalog");
    const { rows } = await client.query<{ missing: string[] }>(
      `select coalesce(array_agg(d.name order by d.name) filter (where j.jobid is null), '{}') as missing
       from automation.cron_jobs d
       left join cron.job j on j.jobname = d.name
       where d.enabled`,
    );
    expect(rows[0]?.missing).toEqual([]);
    expect((await client.query("select from cron.job")).rowCount).toBeGreaterThanOrEqual(5);
  });
});
