import { type Check, type Finding, fail, type Queryable, report, warn } from "../doctor/check.ts";
import { expectedSchema } from "./expected-schema.ts";
import { applyMigrationFix, migrationSources } from "./migration-sources.ts";

/** The jobs the automation needs: every job the migrations define (supabase/schema.json). */
export function requiredCronJobs(): readonly string[] {
  return expectedSchema().cronJobs.map((job) => job.name);
}

const SCHEDULE_SQL = "select automation.schedule_cron_jobs()";
const RESCHEDULE = `${SCHEDULE_SQL}; as the role that ran the migrations (cron.job shows each role only its own jobs)`;

interface Definition {
  name: string;
  schedule: string;
  command: string;
  enabled: boolean;
}

interface CronJobRow {
  jobid: string;
  jobname: string;
  schedule: string;
  command: string;
  active: boolean;
}

interface LastRun {
  job_name: string;
  status: string;
  return_message: string | null;
  start_time: Date;
}

/**
 * The job definitions (automation.cron_jobs) exist and something runs them: with pg_cron, every
 * enabled definition is in cron.job with the same schedule and command, and active; without it,
 * the worker's scheduler reads the definitions. Either way a job whose last run failed is a WARN.
 */
export const cronJobsCheck: Check = {
  name: "cron-jobs",
  description:
    "the job definitions exist and are scheduled: in cron.job (pg_cron) or by the worker's scheduler; the last runs did not fail",
  async run(db: Queryable) {
    const { rows: present } = await db.query<{ definitions: boolean; pg_cron: boolean }>(
      `select pg_catalog.to_regclass('automation.cron_jobs') is not null as definitions,
              exists (select from pg_catalog.pg_extension where extname = 'pg_cron') as pg_cron`,
    );
    const { definitions: hasDefinitions = false, pg_cron: pgCron = false } = present[0] ?? {};
    if (!hasDefinitions) {
      return report([
        fail(
          "automation.cron_jobs does not exist: no scheduled job is defined",
          `apply supabase/migrations/${migrationSources.cronJobs} (pnpm db:migrate)`,
        ),
      ]);
    }

    const { rows: definitions } = await db.query<Definition>(
      "select name, schedule, command, enabled from automation.cron_jobs order by name",
    );
    const findings: Finding[] = [];
    const byName = new Map(definitions.map((definition) => [definition.name, definition]));
    for (const name of requiredCronJobs()) {
      if (!byName.has(name)) {
        findings.push(
          fail(
            `job ${name} is not defined in automation.cron_jobs`,
            applyMigrationFix(
              migrationSources.cronJobs,
              `insert its row as that file does (with pg_cron, then ${SCHEDULE_SQL})`,
            ),
          ),
        );
      }
    }
    for (const definition of definitions) {
      if (!definition.enabled) {
        findings.push(
          warn(
            `job ${definition.name} is disabled (automation.cron_jobs.enabled = false): nothing runs it`,
            `update automation.cron_jobs set enabled = true where name = '${definition.name}'; then ${SCHEDULE_SQL}`,
          ),
        );
      }
    }

    const enabled = definitions.filter((definition) => definition.enabled);
    if (pgCron) {
      findings.push(...(await compareWithPgCron(db, definitions)));
      findings.push(...failedLastRuns(await lastPgCronRuns(db), "pg_cron"));
      return report(findings, `${enabled.length} enabled jobs, run by pg_cron`);
    }

    const runs = await lastSchedulerRuns(db);
    findings.push(...failedLastRuns(runs, "scheduler"));
    const latest = runs.reduce<Date | undefined>(
      (newest, run) => (newest === undefined || run.start_time > newest ? run.start_time : newest),
      undefined,
    );
    const seen = latest === undefined ? "no runs recorded yet" : `last run started ${latest.toISOString()}`;
    return report(findings, `${enabled.length} enabled jobs, run by the worker's scheduler (${seen})`);
  },
};

async function compareWithPgCron(db: Queryable, definitions: readonly Definition[]): Promise<Finding[]> {
  const { rows } = await db.query<CronJobRow>(
    "select jobid::text as jobid, jobname, schedule, command, active from cron.job order by jobid",
  );
  const scheduled = new Map(rows.map((row) => [row.jobname, row]));
  const findings: Finding[] = [];
  for (const definition of definitions) {
    const job = scheduled.get(definition.name);
    if (!definition.enabled) {
      if (job?.active) {
        findings.push(
          warn(
            `job ${definition.name} is disabled in automation.cron_jobs but still active in cron.job (jobid ${job.jobid})`,
            RESCHEDULE,
          ),
        );
      }
      continue;
    }
    if (job === undefined) {
      findings.push(fail(`job ${definition.name} is not scheduled in cron.job`, RESCHEDULE));
      continue;
    }
    const differences: string[] = [];
    if (job.schedule.trim() !== definition.schedule.trim()) {
      differences.push(`schedule "${job.schedule}" instead of "${definition.schedule}"`);
    }
    if (normalizeSql(job.command) !== normalizeSql(definition.command)) {
      differences.push(`command "${job.command}" instead of "${definition.command}"`);
    }
    if (differences.length > 0) {
      findings.push(
        fail(
          `cron.job ${definition.name} (jobid ${job.jobid}) differs from automation.cron_jobs: ${differences.join(", ")}`,
          RESCHEDULE,
        ),
      );
    }
    if (!job.active) {
      findings.push(
        fail(
          `cron.job ${definition.name} (jobid ${job.jobid}) is inactive: pg_cron does not run it`,
          `select cron.alter_job(${job.jobid}, active => true)`,
        ),
      );
    }
  }
  return findings;
}

async function lastPgCronRuns(db: Queryable): Promise<LastRun[]> {
  const { rows } = await db.query<LastRun>(
    `select distinct on (j.jobname) j.jobname as job_name, d.status, d.return_message, d.start_time
     from cron.job_run_details d
     join cron.job j on j.jobid = d.jobid
     where j.jobname in (select c.name from automation.cron_jobs c)
       and d.start_time is not null
     order by j.jobname, d.start_time desc`,
  );
  return rows;
}

async function lastSchedulerRuns(db: Queryable): Promise<LastRun[]> {
  const { rows: present } = await db.query<{ present: boolean }>(
    "select pg_catalog.to_regclass('automation.job_run_details') is not null as present",
  );
  if (present[0]?.present !== true) return [];
  const { rows } = await db.query<LastRun>(
    `select distinct on (r.job_name) r.job_name, r.status, r.return_message, r.start_time
     from automation.job_run_details r
     where r.job_name in (select c.name from automation.cron_jobs c)
     order by r.job_name, r.start_time desc`,
  );
  return rows;
}

function failedLastRuns(runs: readonly LastRun[], runner: "pg_cron" | "scheduler"): Finding[] {
  return runs
    .filter((run) => run.status === "failed")
    .map((run) =>
      warn(
        `the last run of ${run.job_name} (started ${run.start_time.toISOString()}) failed: ${oneLine(run.return_message ?? "no message")}`,
        runner === "pg_cron"
          ? `read its runs: select status, return_message, start_time from cron.job_run_details where jobid = (select jobid from cron.job where jobname = '${run.job_name}') order by start_time desc limit 10`
          : `read its runs: select status, return_message, start_time from automation.job_run_details where job_name = '${run.job_name}' order by start_time desc limit 10; and the worker's log`,
      ),
    );
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function normalizeSql(text: string): string {
  return text.replace(/\s+/g, " ").replace(/;\s*$/, "").trim();
}
