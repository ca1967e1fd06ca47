// The job definitions of supabase/migrations/030_setup_cron_jobs.sql (automation.cron_jobs), who may
// run the job functions, and both scheduling paths: without pg_cron (test databases: the worker's
// scheduler runs the jobs) and with it (the cluster's cron database, in a transaction rolled back).
import { readFileSync } from "node:fs";
import {
  createTestDatabase,
  devstackInfo,
  type TestDatabase,
  withDatabase,
} from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MIGRATION = readFileSync(
  new URL("../../../supabase/migrations/030_setup_cron_jobs.sql", import.meta.url),
  "utf8",
);

/** What the migration defines: name, UTC schedule (Moscow = UTC+3), function the command calls. */
const JOBS = [
  { name: "cleanup-old-assessments", schedule: "0 0 * * *", fn: "public.cleanup_old_assessments" },
  { name: "purge-cron-history", schedule: "30 1 * * *", fn: "automation.purge_cron_history" },
  { name: "purge-queue-archives", schedule: "0 1 * * *", fn: "automation.purge_queue_archives" },
  { name: "send-appointment-reminders", schedule: "0 * * * *", fn: "public.send_appointment_reminders" },
  { name: "update-appointment-statuses", schedule: "*/5 * * * *", fn: "public.update_appointment_statuses" },
] as const;

const JOB_FUNCTIONS = JOBS.map((job) => `${job.fn}(timestamptz)`);

interface CronJobRow {
  readonly name: string;
  readonly schedule: string;
  readonly command: string;
  readonly description: string | null;
  readonly enabled: boolean;
}

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Runs work in a transaction that is always rolled back. */
async function rolledBack<T>(on: pg.Client, work: () => Promise<T>): Promise<T> {
  await on.query("begin");
  try {
    return await work();
  } finally {
    await on.query("rollback");
  }
}

/** The jobs of 030 (later migrations add their own, tested with them). */
async function cronJobs(on: pg.Client = client): Promise<CronJobRow[]> {
  const result = await on.query<CronJobRow>(
    "select name, schedule, command, description, enabled from automation.cron_jobs where name = any($1) order by name",
    [JOBS.map((job) => job.name)],
  );
  return result.rows;
}

describe("automation.cron_jobs", () => {
  it("defines the five jobs with their UTC schedules, each calling its function", async () => {
    const jobs = await cronJobs();
    expect(
      jobs.map(({ name, schedule, command, enabled }) => ({ name, schedule, command, enabled })),
    ).toEqual(
      JOBS.map((job) => ({
        name: job.name,
        schedule: job.schedule,
        command: `select ${job.fn}()`,
        enabled: true,
      })),
    );
  });

  it("says each job's Moscow time in its description", async () => {
    const byName = new Map((await cronJobs()).map((job) => [job.name, job.description ?? ""]));
    expect(byName.get("cleanup-old-assessments")).toContain("03:00 Moscow (00:00 UTC)");
    expect(byName.get("purge-queue-archives")).toContain("04:00 Moscow (01:00 UTC)");
    expect(byName.get("purge-cron-history")).toContain("04:30 Moscow (01:30 UTC)");
    expect(byName.get("update-appointment-statuses")).toContain("Every 5 minutes");
    expect(byName.get("send-appointment-reminders")).toContain("Every hour");
  });

  it("runs every job's command as written, in a migrated database", async () => {
    await rolledBack(client, async () => {
      for (const job of await cronJobs()) {
        const result = await client.query(job.command);
        expect(result.rowCount, job.name).toBe(1);
      }
    });
  });

  it("refuses a job name that is not kebab-case and an empty command", async () => {
    await expect(
      client.query(
        "insert into automation.cron_jobs (name, schedule, command) values ('Bad Name', '* * * * *', 'select 1')",
      ),
    ).rejects.toMatchObject({ constraint: "cron_jobs_name_check" });
    await expect(
      client.query(
        "insert into automation.cron_jobs (name, schedule, command) values ('empty', '* * * * *', ' ')",
      ),
    ).rejects.toMatchObject({ constraint: "cron_jobs_command_check" });
  });
});

describe("who may run the jobs", () => {
  it("lets only service_role (and the owner) execute the job functions", async () => {
    for (const fn of JOB_FUNCTIONS) {
      const result = await client.query<{
        service: boolean;
        authenticated: boolean;
        anon: boolean;
        public: boolean;
      }>(
        `select has_function_privilege('service_role', $1, 'execute') as service,
                has_function_privilege('authenticated', $1, 'execute') as authenticated,
                has_function_privilege('anon', $1, 'execute') as anon,
                exists (
                  select from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                  where p.oid = $1::regprocedure and a.grantee = 0 and a.privilege_type = 'EXECUTE'
                ) as public`,
        [fn],
      );
      expect(result.rows[0], fn).toEqual({ service: true, authenticated: false, anon: false, public: false });
    }
  });

  it("makes every job function security definer with an empty search_path and a comment", async () => {
    const result = await client.query<{
      fn: string;
      definer: boolean;
      config: string[] | null;
      comment: string | null;
    }>(
      `select p.oid::regprocedure::text as fn, p.prosecdef as definer, p.proconfig as config,
              obj_description(p.oid, 'pg_proc') as comment
       from pg_proc p where p.oid = any($1::regprocedure[]) order by 1`,
      [JOB_FUNCTIONS],
    );
    expect(result.rows).toHaveLength(JOBS.length);
    for (const row of result.rows) {
      expect(row.definer, row.fn).toBe(true);
      expect(row.config, row.fn).toEqual(['search_path=""']);
      expect(row.comment, row.fn).toMatch(/^Cron job /);
    }
  });

  it.each(["authenticated", "anon"])(
    "refuses %s: it can neither run the job functions nor read the definitions",
    async (role) => {
      for (const job of JOBS) {
        await expect(
          rolledBack(client, async () => {
            await client.query(`set local role ${role}`);
            await client.query(`select ${job.fn}()`);
          }),
          job.fn,
        ).rejects.toMatchObject({ code: "42501" });
      }
      await expect(
        rolledBack(client, async () => {
          await client.query(`set local role ${role}`);
          await client.query("select * from automation.cron_jobs");
        }),
      ).rejects.toMatchObject({ code: "42501" });
    },
  );

  it("lets service_role run every job and read the definitions, as the worker's scheduler does", async () => {
    await rolledBack(client, async () => {
      await client.query("set local role service_role");
      const jobs = await cronJobs();
      expect(jobs).toHaveLength(JOBS.length);
      for (const job of jobs) await client.query(job.command);
      await client.query(
        "insert into automation.job_run_details (job_name) values ('update-appointment-statuses')",
      );
    });
  });

  it("keeps automation.schedule_cron_jobs() from service_role and the API roles", async () => {
    const result = await client.query<{ role: string; allowed: boolean }>(
      `select r as role, has_function_privilege(r, 'automation.schedule_cron_jobs()', 'execute') as allowed
       from unnest(array['service_role', 'authenticated', 'anon']) r`,
    );
    expect(result.rows.every((row) => !row.allowed)).toBe(true);
  });
});

describe("scheduling without pg_cron in the database", () => {
  it("leaves pg_cron out of a database that is not the cron database and only reports it", async () => {
    const extension = await client.query("select 1 from pg_extension where extname = 'pg_cron'");
    expect(extension.rowCount).toBe(0);

    const notices: string[] = [];
    const onNotice = (notice: { readonly message?: string | undefined }): void => {
      notices.push(notice.message ?? "");
    };
    client.on("notice", onNotice);
    try {
      const result = await client.query<{ summary: unknown }>(
        "select automation.schedule_cron_jobs() as summary",
      );
      expect(result.rows[0]!.summary).toEqual({ pg_cron: false });
    } finally {
      client.off("notice", onNotice);
    }
    expect(notices.join("\n")).toMatch(
      /pg_cron is not installed in database t_[0-9a-f]+: the worker's scheduler runs/,
    );
  });
});

describe("applying the migration where pg_cron cannot be", () => {
  it("applies where pg_cron cannot live and says the worker's scheduler runs the jobs", async () => {
    const info = devstackInfo();
    // A database with the platform objects but no migrations: 030 applied on its own.
    const platform = await createTestDatabase("platform");
    const session = new pg.Client({ connectionString: platform.url });
    await session.connect();
    const notices: string[] = [];
    session.on("notice", (notice) => {
      notices.push(notice.message ?? "");
    });
    try {
      await rolledBack(session, async () => {
        await session.query(MIGRATION);
        expect(await cronJobs(session)).toHaveLength(JOBS.length);
      });
    } finally {
      await session.end();
      await platform.drop();
    }
    // With pg_cron preloaded it lives in the cron database; without it, the server has none to offer
    // (or cannot load it).
    expect(notices.join("\n")).toMatch(
      info.pgCron
        ? new RegExp(
            `pg_cron lives in database ${info.cronDatabase}, not ${platform.name}: the worker's scheduler`,
          )
        : /pg_cron (is not available on this server|could not be created in database \S+ \(.*\)): the worker's scheduler/,
    );
  });
});

describe("scheduling with pg_cron", () => {
  const info = devstackInfo();
  let cron: pg.Client;

  beforeAll(async () => {
    if (!info.pgCron) return;
    cron = new pg.Client({ connectionString: withDatabase(info.adminUrl, info.cronDatabase) });
    await cron.connect();
  });

  afterAll(async () => {
    await cron?.end();
  });

  async function scheduledJobs(): Promise<
    { jobname: string; schedule: string; command: string; database: string }[]
  > {
    const result = await cron.query<{ jobname: string; schedule: string; command: string; database: string }>(
      "select jobname, schedule, command, database from cron.job where jobname = any($1) order by jobname",
      [JOBS.map((job) => job.name)],
    );
    return result.rows;
  }

  it.runIf(info.pgCron)(
    "applies in the cron database and schedules all five jobs there, idempotently",
    async () => {
      await rolledBack(cron, async () => {
        await cron.query(MIGRATION);
        const expected = JOBS.map((job) => ({
          jobname: job.name,
          schedule: job.schedule,
          command: `select ${job.fn}()`,
          database: info.cronDatabase,
        }));
        expect(await scheduledJobs()).toEqual(expected);

        // Running it again updates the same jobs (pg_cron upserts by name).
        const again = await cron.query<{ summary: { pg_cron: boolean; scheduled: string[] } }>(
          "select automation.schedule_cron_jobs() as summary",
        );
        expect(again.rows[0]!.summary).toEqual({
          pg_cron: true,
          scheduled: JOBS.map((job) => job.name),
          unscheduled: [],
        });
        expect(await scheduledJobs()).toEqual(expected);

        // A changed schedule is copied over; a disabled job is unscheduled.
        await cron.query(
          "update automation.cron_jobs set schedule = '*/10 * * * *' where name = 'update-appointment-statuses'",
        );
        await cron.query("update automation.cron_jobs set enabled = false where name = 'purge-cron-history'");
        const changed = await cron.query<{ summary: { unscheduled: string[] } }>(
          "select automation.schedule_cron_jobs() as summary",
        );
        expect(changed.rows[0]!.summary.unscheduled).toEqual(["purge-cron-history"]);
        const jobs = await scheduledJobs();
        expect(jobs.map((job) => job.jobname)).not.toContain("purge-cron-history");
        expect(jobs.find((job) => job.jobname === "update-appointment-statuses")?.schedule).toBe(
          "*/10 * * * *",
        );
      });
      expect(await scheduledJobs()).toEqual([]);
    },
  );

  it.runIf(info.pgCron)("purges pg_cron's own run history where pg_cron lives", async () => {
    await rolledBack(cron, async () => {
      await cron.query(MIGRATION);
      await cron.query(
        `insert into cron.job_run_details (jobid, runid, database, username, command, status, start_time, end_time)
         values (0, -1, current_database(), current_user, 'select 1', 'succeeded', now() - interval '15 days', now() - interval '15 days'),
                (0, -2, current_database(), current_user, 'select 1', 'succeeded', now() - interval '1 day', now() - interval '1 day')`,
      );
      const result = await cron.query<{ summary: Record<string, number> }>(
        "select automation.purge_cron_history() as summary",
      );
      expect(result.rows[0]!.summary).toEqual({ "cron.job_run_details": 1, "automation.job_run_details": 0 });
      const left = await cron.query("select runid from cron.job_run_details where runid in (-1, -2)");
      expect(left.rows).toEqual([{ runid: "-2" }]);
    });
  });

  it.runIf(info.pgCron)("schedules a job from the cron database into a test database", async () => {
    const jobName = `test-${db.name}`;
    const scheduled = await cron.query<{ jobid: string }>(
      "select cron.schedule_in_database($1, '*/5 * * * *', 'select public.update_appointment_statuses()', $2) as jobid",
      [jobName, db.name],
    );
    try {
      const job = await cron.query(
        "select database, username, active, command from cron.job where jobid = $1",
        [scheduled.rows[0]!.jobid],
      );
      expect(job.rows).toEqual([
        {
          database: db.name,
          username: "postgres",
          active: true,
          command: "select public.update_appointment_statuses()",
        },
      ]);
      // The command it will run works in that database, as the job's user.
      await rolledBack(client, () => client.query("select public.update_appointment_statuses()"));
    } finally {
      await cron.query("select cron.unschedule($1::bigint)", [scheduled.rows[0]!.jobid]);
    }
  });

  it.runIf(info.pgCron)(
    "runs a job in the test database (pg_cron 1.5+: seconds schedules)",
    async (context) => {
      const version = await cron.query<{ extversion: string }>(
        "select extversion from pg_extension where extname = 'pg_cron'",
      );
      const [major = 0, minor = 0] = (version.rows[0]?.extversion ?? "0").split(/[.-]/).map(Number);
      // pg_cron 1.4 (Debian's) runs jobs only at whole minutes; waiting for one is not worth a minute
      // of every test run. The test above shows the job is in place; this one runs where it is quick.
      if (major === 1 && minor < 5)
        context.skip(`pg_cron ${version.rows[0]?.extversion} has no seconds schedules`);

      const user = "e0000000-0000-4000-8000-000000000005";
      await client.query("insert into auth.users (id, email) values ($1, 'egor@example.com')", [user]);
      const appointment = await client.query<{ id: string }>(
        `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       values ($1, 'Specialist', now() - interval '1 minute', now() + interval '1 hour') returning id`,
        [user],
      );
      const id = appointment.rows[0]!.id;
      const scheduled = await cron.query<{ jobid: string }>(
        "select cron.schedule_in_database($1, '1 seconds', 'select public.update_appointment_statuses()', $2) as jobid",
        [`run-${db.name}`, db.name],
      );
      try {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const row = await client.query<{ status: string }>(
            "select status from public.appointments where id = $1",
            [id],
          );
          if (row.rows[0]?.status === "in_progress") break;
          if (Date.now() > deadline) throw new Error("pg_cron did not run the job within 20 s");
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        await cron.query("select cron.unschedule($1::bigint)", [scheduled.rows[0]!.jobid]);
      }
    },
  );
});
