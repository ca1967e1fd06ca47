// pg_cron as the devstack sets it up (preloaded, background workers, cron database `postgres`, UTC)
// really runs a job: a minute schedule runs the migrations' update_appointment_statuses() in a test
// database, the appointment changes, and cron.job_run_details records the run. pg_cron 1.4 (Debian's)
// has no seconds schedules, so this test waits for the next whole minute (at most ~70 s).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, devstackInfo, type TestDatabase, withDatabase } from "../src/testing.ts";

const info = devstackInfo();
const NO_PG_CRON =
  "pg_cron is not installed here (the embedded PostgreSQL 17 has none); the worker's scheduler runs the jobs";

let db: TestDatabase;
let client: pg.Client;
let cron: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cron = new pg.Client({ connectionString: withDatabase(info.adminUrl, info.cronDatabase) });
  await cron.connect();
});

afterAll(async () => {
  await client?.end();
  await cron?.end();
  await db?.drop();
});

interface Run {
  readonly status: string;
  readonly database: string;
  readonly command: string;
  readonly finished: boolean;
}

describe("pg_cron", () => {
  it("runs a job on a minute schedule in a test database and records the run", async (context) => {
    if (!info.pgCron) context.skip(NO_PG_CRON);

    const user = "e0000000-0000-4000-8000-00000000c0de";
    await client.query("insert into auth.users (id, email) values ($1, 'cron-run@example.com')", [user]);
    const appointment = await client.query<{ id: string }>(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       values ($1, 'Specialist', now() - interval '1 minute', now() + interval '1 hour') returning id`,
      [user],
    );
    const id = appointment.rows[0]?.id;
    const scheduled = await cron.query<{ jobid: string }>(
      "select cron.schedule_in_database($1, '* * * * *', 'select public.update_appointment_statuses()', $2) as jobid",
      [`run-${db.name}`, db.name],
    );
    const jobid = scheduled.rows[0]?.jobid;
    let runs: Run[] = [];
    try {
      const deadline = Date.now() + 80_000;
      for (;;) {
        const status = await client.query<{ status: string }>(
          "select status from public.appointments where id = $1",
          [id],
        );
        runs = (
          await cron.query<Run>(
            `select status, database, command, end_time is not null as finished
             from cron.job_run_details where jobid = $1 order by runid`,
            [jobid],
          )
        ).rows;
        if (status.rows[0]?.status === "in_progress" && runs.some((run) => run.status === "succeeded")) break;
        if (Date.now() > deadline) {
          throw new Error(
            `pg_cron did not run the job within 80 s (appointment ${status.rows[0]?.status}, runs ${JSON.stringify(runs)})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await cron.query("select cron.unschedule($1::bigint)", [jobid]);
    }
    // one whole minute came round while the test waited: exactly one run
    expect(runs).toEqual([
      {
        status: "succeeded",
        database: db.name,
        command: "select public.update_appointment_statuses()",
        finished: true,
      },
    ]);
  }, 100_000);
});
