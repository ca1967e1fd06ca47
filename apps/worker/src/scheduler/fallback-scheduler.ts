import { Cron } from "croner";
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
 * a session advisory lock per job keeps a slow run from overlapping the next tick.
 * Runs are recorded like cron.job_run_details: running → succeeded | failed, with the message.
 */
export class FallbackScheduler {
  readonly #pool: pg.Pool;
  readonly #logger: Logger;
  readonly #timers: Cron[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(pool: pg.Pool, logger: Logger) {
    this.#pool = pool;
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
    const client = await this.#pool.connect();
    try {
      const lock = await client.query<{ locked: boolean }>(
        "select pg_try_advisory_lock(hashtext('balansity.cron'), hashtext($1)) as locked",
        [job.name],
      );
      if (!lock.rows[0]?.locked) return;
      try {
        const claim = await client.query<{ runid: string }>(
          `insert into automation.job_run_details (job_name, scheduled_for, command, status, start_time)
           values ($1, $2, $3, 'running', now())
           on conflict (job_name, scheduled_for) do nothing
           returning runid`,
          [job.name, scheduledFor, job.command],
        );
        const runid = claim.rows[0]?.runid;
        if (!runid) return;
        const started = performance.now();
        try {
          const result = await client.query(job.command);
          const message = Array.isArray(result)
            ? "ok"
            : `${result.command ?? "ok"} ${result.rowCount ?? ""}`.trim();
          await this.#finish(client, runid, "succeeded", message);
          this.#logger.info(
            { job: job.name, duration_ms: Math.round(performance.now() - started) },
            "cron job ran",
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          await this.#finish(client, runid, "failed", message);
          this.#logger.error({ job: job.name, err: error }, "cron job failed");
        }
      } finally {
        await client.query("select pg_advisory_unlock(hashtext('balansity.cron'), hashtext($1))", [job.name]);
      }
    } finally {
      client.release();
    }
  }

  async #finish(client: pg.PoolClient, runid: string, status: string, message: string): Promise<void> {
    await client.query(
      "update automation.job_run_details set status = $2, return_message = $3, end_time = now() where runid = $1",
      [runid, status, message.slice(0, 1000)],
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) timer.stop();
    await Promise.all(this.#running);
  }
}

function truncateToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}
