import { createDb } from "@balansity/db";
import type pg from "pg";
import type { Logger } from "pino";
import { type CronJobDefinition, FallbackScheduler } from "./fallback-scheduler.ts";

export { FallbackScheduler } from "./fallback-scheduler.ts";

/**
 * `auto` runs the jobs here only when pg_cron is not installed in this database (pg_cron then runs
 * them itself); `on` always; `off` never.
 */
export async function startSchedulerIfNeeded(options: {
  pool: pg.Pool;
  mode: "auto" | "on" | "off";
  logger: Logger;
}): Promise<FallbackScheduler | undefined> {
  const { pool, mode, logger } = options;
  if (mode === "off") return undefined;
  if (mode === "auto") {
    const cron = await pool.query("select 1 from pg_extension where extname = 'pg_cron'");
    if (cron.rowCount) return undefined;
  }
  const jobs: CronJobDefinition[] = await createDb(pool)
    .selectFrom("automation.cron_jobs")
    .select(["name", "schedule", "command"])
    .where("enabled", "=", true)
    .orderBy("name")
    .execute();
  const scheduler = new FallbackScheduler(pool, logger);
  scheduler.start(jobs);
  return scheduler;
}
