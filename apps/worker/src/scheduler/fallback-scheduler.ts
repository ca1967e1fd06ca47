import { createDb, type Database } from "@balansity/db";
import { Cron } from "croner";
import { type Kysely, sql } from "kysely";
import type pg from "pg";
import type { Logger } from "pino";

export interface CronJobDefinition {
  readonly name: string;
  readonly schedule: string;
  readonly command: string;
}

/**
 * Runs the cron job definitions (automation.cron_jobs, the same rows the migration gives pg_cron)
 * where pg_cron is absent. Many workers may run it: each tick is claimed by inserting
 * (job_name, scheduled_for) into automation.job_run_details, unique, so exactly one worker runs it;
 * a transaction-scoped advisory lock per job keeps a slow run from overlapping the next tick.
 * Runs are recorded like cron.job_run_details: running → succeeded | failed, with the message.
 */
export class FallbackScheduler {
  readonly #db: Kysely<Database>;
  readonly #logger: Logger;
  readonly #timers: Cron[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(pool: pg.Pool, logger: Logger) {
    this.#db = createDb(pool);
    this.#logger = logger.child({ component: "scheduler" });
  }

  start(jobs: readonly CronJobDefinition[]): void {
    for (const job of jobs) {
      const timer = new Cron(job.schedule, { timezone: "UTC", protect: true }, () => {
        const run = this.runTick(job, truncateToMinute(new Date())).finally(() => this.#running.delete(run));
        this.#running.add(run);
      });
      this.#timers.push(timer);
    }
    this.#logger.info(
      { jobs: jobs.map((job) => `${job.name} (${job.schedule} UTC)`) },
      "running cron jobs in the worker",
    );
  }

  /** Claims and runs one tick of a job; returns without running when another worker has it. */
  async runTick(job: CronJobDefinition, scheduledFor: Date): Promise<void> {
    // One transaction for the whole tick, with a transaction-scoped advisory lock: it holds behind a
    // transaction pooler too (a session lock could be taken and released on different server
    // connections there), and a crash releases it with the transaction.
    await this.#db.transaction().execute(async (db) => {
      const lock = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(hashtext('balansity.cron'), hashtext(${job.name})) as locked`.execute(
        db,
      );
      if (!lock.rows[0]?.locked) return;
      const claim = await db
        .insertInto("automation.job_run_details")
        .values({
          job_name: job.name,
          scheduled_for: scheduledFor,
          command: job.command,
          status: "running",
          start_time: sql<Date>`now()`,
        })
        .onConflict((conflict) => conflict.columns(["job_name", "scheduled_for"]).doNothing())
        .returning("runid")
        .executeTakeFirst();
      if (!claim) return;
      const started = performance.now();
      // A failing command rolls back to here, so the claim and its "failed" record still commit.
      await sql`savepoint cron_job`.execute(db);
      try {
        // The job's command is SQL from automation.cron_jobs (written by migrations), run as is.
        const result = await sql.raw(job.command).execute(db);
        await finish(db, claim.runid, "succeeded", describeResult(result.rows));
        this.#logger.info(
          { job: job.name, duration_ms: Math.round(performance.now() - started) },
          "cron job ran",
        );
      } catch (error) {
        await sql`rollback to savepoint cron_job`.execute(db);
        const message = error instanceof Error ? error.message : String(error);
        await finish(db, claim.runid, "failed", message);
        this.#logger.error({ job: job.name, err: error }, "cron job failed");
      }
    });
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) timer.stop();
    await Promise.all(this.#running);
  }
}

function truncateToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}

async function finish(db: Kysely<Database>, runid: string, status: string, message: string): Promise<void> {
  await db
    .updateTable("automation.job_run_details")
    .set({ status, return_message: message.slice(0, 1000), end_time: sql<Date>`now()` })
    .where("runid", "=", runid)
    .execute();
}

/** The command's one value (a cron function's jsonb summary, say) as text, else how many rows it gave. */
function describeResult(rows: readonly unknown[]): string {
  const values = rows.length === 1 && rows[0] && typeof rows[0] === "object" ? Object.values(rows[0]) : [];
  if (values.length !== 1 || values[0] === null || values[0] === undefined) return `ok, ${rows.length} rows`;
  return typeof values[0] === "string" ? values[0] : JSON.stringify(values[0]);
}
