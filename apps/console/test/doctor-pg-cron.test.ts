// The pg_cron side of cron-jobs and extensions. Test databases are clones outside pg_cron's one
// database, so this file migrates the cluster's own cron database (`postgres`: this test run's
// throw-away cluster, as on Supabase, where migrations run where pg_cron lives). Skipped where the
// server has no pg_cron.
import { applyMigrations, installPlatform } from "@balansity/devstack";
import { devstackInfo, withDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cronJobsCheck } from "../src/checks/cron-jobs.ts";
import { extensionsCheck } from "../src/checks/extensions.ts";
import { schemaStateCheck } from "../src/checks/schema-state.ts";
import type { CheckResult, Finding } from "../src/doctor/check.ts";
import { checkAfter, fixSql, runOne } from "./support/run-in-transaction.ts";

const info = devstackInfo();
let client: pg.Client;

function only(result: CheckResult): Finding {
  expect(result.findings).toHaveLength(1);
  return result.findings[0]!;
}

describe.runIf(info.pgCron)("doctor where pg_cron runs the jobs", () => {
  beforeAll(async () => {
    const url = withDatabase(info.adminUrl, info.cronDatabase);
    await installPlatform(url);
    await applyMigrations(url);
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
  });

  it("passes extensions without the scheduler warning, naming the pg_cron version", async () => {
    const result = await runOne(client, extensionsCheck);
    expect(result.status).toBe("pass");
    expect(result.note).toMatch(/; pg_cron \d+\.\d+/);
  });

  it("passes cron-jobs when every enabled definition is in cron.job, the same and active", async () => {
    const result = await runOne(client, cronJobsCheck);
    expect(result.findings).toEqual([]);
    expect(result.note).toMatch(/^\d+ enabled jobs, run by pg_cron$/);
  });

  it("fails when a job is missing from cron.job, and schedule_cron_jobs() puts it back", async () => {
    const result = await checkAfter(
      client,
      "select cron.unschedule('send-appointment-reminders')",
      cronJobsCheck,
      async (r) => {
        await client.query(fixSql(only(r).fix).split(";")[0]!);
        expect((await runOne(client, cronJobsCheck)).status).toBe("pass");
      },
    );
    expect(only(result).problem).toBe("job send-appointment-reminders is not scheduled in cron.job");
    expect(only(result).fix).toMatch(
      /^select automation\.schedule_cron_jobs\(\); as the role that ran the migrations/,
    );
  });

  it("fails when cron.job runs another schedule than the definition", async () => {
    const result = await checkAfter(
      client,
      "update cron.job set schedule = '*/10 * * * *' where jobname = 'update-appointment-statuses'",
      cronJobsCheck,
    );
    expect(only(result).problem).toMatch(
      /^cron\.job update-appointment-statuses \(jobid \d+\) differs from automation\.cron_jobs: schedule "\*\/10 \* \* \* \*" instead of "\*\/5 \* \* \* \*"$/,
    );
  });

  it("fails when a job is inactive, and its fix activates it", async () => {
    const result = await checkAfter(
      client,
      "update cron.job set active = false where jobname = 'cleanup-old-assessments'",
      cronJobsCheck,
      async (r) => {
        await client.query(fixSql(only(r).fix));
        expect((await runOne(client, cronJobsCheck)).status).toBe("pass");
      },
    );
    expect(only(result).problem).toMatch(/^cron\.job cleanup-old-assessments \(jobid \d+\) is inactive/);
    expect(only(result).fix).toMatch(/^select cron\.alter_job\(\d+, active => true\)$/);
  });

  it("warns with pg_cron's message when a job's last run failed", async () => {
    const result = await checkAfter(
      client,
      `insert into cron.job_run_details (jobid, database, username, command, status, return_message, start_time, end_time)
       select jobid, database, username, command, 'failed', 'ERROR:  function public.update_appointment_statuses() does not exist',
              now() - interval '1 minute', now() - interval '1 minute'
       from cron.job where jobname = 'update-appointment-statuses'`,
      cronJobsCheck,
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toMatch(
      /^the last run of update-appointment-statuses \(started .+\) failed: ERROR: function public\.update_appointment_statuses\(\) does not exist$/,
    );
    expect(only(result).fix).toContain("from cron.job_run_details where jobid = ");
  });

  it("passes with the team's own cron job beside ours, listing it as not ours", async () => {
    await client.query("begin");
    try {
      await client.query("select cron.schedule('team-weekly-digest', '0 9 * * 1', 'select 1')");
      expect((await runOne(client, cronJobsCheck)).status).toBe("pass");
      const result = await runOne(client, schemaStateCheck);
      expect(result.status).toBe("pass");
      expect(result.findings).toEqual([
        { severity: "info", problem: "not ours, left alone: 1 cron jobs: team-weekly-digest" },
      ]);
    } finally {
      await client.query("rollback");
    }
  });

  it("fails schema-state when pg_cron runs one of our jobs with another command", async () => {
    const result = await checkAfter(
      client,
      "update automation.cron_jobs set command = 'select 1' where name = 'purge-cron-history'",
      schemaStateCheck,
    );
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: "fail",
        problem:
          'cron job purge-cron-history is defined as "30 1 * * *" select 1, expected "30 1 * * *" select automation.purge_cron_history()',
      }),
    ]);
  });
});
