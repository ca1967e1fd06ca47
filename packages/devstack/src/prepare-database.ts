import { readFileSync } from "node:fs";
import { migrationsDirectory, runMigrations } from "@balansity/db";
import { pgmqCompatSqlFile, platformSqlFile, seedFile } from "./paths.ts";
import { withClient } from "./with-client.ts";

/**
 * Installs what Supabase gives every project and plain PostgreSQL lacks: roles, the auth schema,
 * and pgmq (the real extension when the server has it, else our pgmq-1.5-compatible SQL).
 * Local only: never run against Supabase, where these objects already exist.
 * Returns true when the real pgmq extension is in use.
 */
export async function installPlatform(connectionString: string): Promise<boolean> {
  return withClient(connectionString, async (client) => {
    await client.query(readFileSync(platformSqlFile, "utf8"));
    const available = await client.query("select 1 from pg_available_extensions where name = 'pgmq'");
    if (available.rowCount) {
      await client.query("create extension if not exists pgmq");
      return true;
    }
    await client.query(readFileSync(pgmqCompatSqlFile, "utf8"));
    return false;
  });
}

/** Creates pg_cron in the one database it may live in, in schema pg_catalog as Supabase does. */
export async function installPgCron(connectionString: string): Promise<void> {
  await withClient(connectionString, (client) =>
    client.query("create extension if not exists pg_cron with schema pg_catalog"),
  );
}

/** Applies supabase/migrations with the project's runner; returns the files applied now. */
export async function applyMigrations(connectionString: string): Promise<readonly string[]> {
  const result = await runMigrations({ connectionString, directory: migrationsDirectory });
  return result.applied;
}

/** Loads supabase/seed.sql (sample users, checkups, appointments, payments) in one transaction. */
export async function applySeed(connectionString: string): Promise<void> {
  await withClient(connectionString, async (client) => {
    await client.query("begin");
    try {
      await client.query(readFileSync(seedFile, "utf8"));
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw new Error(`supabase/seed.sql failed: ${(error as Error).message}`);
    }
  });
}
