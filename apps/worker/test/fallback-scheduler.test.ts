import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FallbackScheduler } from "../src/scheduler/fallback-scheduler.ts";
import { startSchedulerIfNeeded } from "../src/scheduler/start-scheduler.ts";

let db: TestDatabase;
let pool: pg.Pool;
const logger = pino({ level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function runs(job: string) {
  const { rows } = await pool.query<{ status: string; return_message: string | null; command: string }>(
    "select status, return_message, command from automation.job_run_details where job_name = $1 order by runid",
    [job],
  );
  return rows;
}

describe("the worker's fallback scheduler", () => {
  it("runs one tick of a job once, however many workers reach it", async () => {
    const job = {
      name: "update-appointment-statuses",
      schedule: "*/5 * * * *",
      command: "select public.update_appointment_statuses()",
    };
    const tick = new Date("2026-11-23T10:05:00Z");
    const schedulers = [1, 2, 3, 4].map(() => new FallbackScheduler(pool, logger));
    await Promise.all(schedulers.map((scheduler) => scheduler.runTick(job, tick)));
    await Promise.all(schedulers.map((scheduler) => scheduler.runTick(job, tick)));

    const recorded = await runs(job.name);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.status).toBe("succeeded");
    expect(recorded[0]?.command).toBe(job.command);

    await schedulers[0]!.runTick(job, new Date("2026-11-23T10:10:00Z"));
    expect(await runs(job.name)).toHaveLength(2);
  });

  it("skips a tick while the job's previous run still holds its lock, and leaves nothing held after", async () => {
    const job = { name: "slow-job", schedule: "* * * * *", command: "select 1" };
    const holder = await pool.connect();
    try {
      // A run of the same job in progress elsewhere: its transaction holds the job's lock.
      await holder.query("begin");
      await holder.query("select pg_advisory_xact_lock(hashtext('balansity.cron'), hashtext($1))", [
        job.name,
      ]);
      await new FallbackScheduler(pool, logger).runTick(job, new Date("2026-11-23T11:00:00Z"));
      expect(await runs(job.name)).toHaveLength(0);
      await holder.query("commit");
    } finally {
      holder.release();
    }
    await new FallbackScheduler(pool, logger).runTick(job, new Date("2026-11-23T11:01:00Z"));
    expect(await runs(job.name)).toHaveLength(1);
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from pg_locks
        where locktype = 'advisory' and granted
          and database = (select oid from pg_database where datname = current_database())`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("records a failing job with its error message", async () => {
    const job = { name: "broken-job", schedule: "* * * * *", command: "select 1/0" };
    await new FallbackScheduler(pool, logger).runTick(job, new Date("2026-11-23T10:00:00Z"));
    const [run] = await runs(job.name);
    expect(run?.status).toBe("failed");
    expect(run?.return_message).toContain("division by zero");
  });

  it("starts in auto mode where pg_cron is absent and reads the migration's job definitions", async () => {
    const { rows: defined } = await pool.query<{ name: string; schedule: string }>(
      "select name, schedule from automation.cron_jobs where enabled order by name",
    );
    expect(defined.map((job) => job.name)).toContain("update-appointment-statuses");
    // One job switched off: the scheduler must leave it out, so it reads the rows, not a list of its own.
    const off = defined[0]!.name;
    await pool.query("update automation.cron_jobs set enabled = false where name = $1", [off]);
    const lines: string[] = [];
    const captured = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const scheduler = await startSchedulerIfNeeded({ pool, mode: "auto", logger: captured });
    try {
      expect(scheduler).toBeInstanceOf(FallbackScheduler);
      const started = lines
        .map((line) => JSON.parse(line) as { msg: string; jobs?: string[] })
        .find((entry) => entry.msg === "running cron jobs in the worker");
      expect(started?.jobs).toEqual(
        defined.filter((job) => job.name !== off).map((job) => `${job.name} (${job.schedule} UTC)`),
      );
    } finally {
      await scheduler?.stop();
      await pool.query("update automation.cron_jobs set enabled = true where name = $1", [off]);
    }
    expect(await startSchedulerIfNeeded({ pool, mode: "off", logger })).toBeUndefined();
  });
});
