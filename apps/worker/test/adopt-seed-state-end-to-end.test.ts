// Balansity's live database, adopted and drained: a database in the seed-era state (the app's tables
// with rows and columns of their own, the seed-era 030–033 applied by hand, pg_cron in `public` with
// the seed-era jobs and a job of the team's own with run history where the server has pg_cron, a
// backlog in the seed-era shapes in all four queues) → `db:adopt` → the real worker delivers the
// backlog to a real SMTP server → the doctor passes. On the system PostgreSQL with pg_cron this runs
// in the cluster's cron database (the only one pg_cron can be in); on the embedded 17, without.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { adoptDatabase, migrationsDirectory, planDatabaseAdoption, runMigrations } from "@balansity/db";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { rowSnapshot, schemaSnapshot } from "@balansity/devstack/database-snapshot";
import { buildSeedState, TEAM_CRON_JOB } from "@balansity/devstack/seed-state";
import {
  createTestDatabase,
  devstackInfo,
  type TestDatabase,
  withDatabase,
} from "@balansity/devstack/testing";
import { legacyIdempotencyKey } from "@balansity/queues";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

vi.setConfig({ testTimeout: 180_000 });

const info = devstackInfo();
const QUEUES = [
  "email_queue",
  "report_generation_queue",
  "payment_processing_queue",
  "analytics_queue",
] as const;
const DOCTOR = fileURLToPath(new URL("../../console/src/cli.ts", import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

let db: TestDatabase | undefined;
let url: string;
let client: pg.Client;
let smtp: SmtpSink | undefined;
let worker: RunningWorker | undefined;
let rowsBefore: string[];
let backlogEmails: number[];
let teamHistory: string[];

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select (${sql})::int as n`, params);
  return rows[0]?.n ?? -1;
}

/** Runs the operator CLI's doctor as `pnpm run doctor` does, as a process of its own. */
function runDoctor(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, DOCTOR, "doctor"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        DATABASE_URL: databaseUrl,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.once("close", (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  if (info.pgCron) {
    url = withDatabase(info.adminUrl, info.cronDatabase);
  } else {
    db = await createTestDatabase("platform");
    url = db.url;
  }
  await buildSeedState(url, { pgCron: info.pgCron });
  client = new pg.Client({ connectionString: url });
  await client.connect();
  rowsBefore = await rowSnapshot(client);
  const { rows } = await client.query<{ msg_id: string }>(
    "select msg_id from pgmq.q_email_queue order by msg_id",
  );
  backlogEmails = rows.map((r) => Number(r.msg_id));
  teamHistory = info.pgCron
    ? (
        await client.query<{ line: string }>(
          `select to_jsonb(d)::text as line from cron.job_run_details d
           join cron.job j on j.jobid = d.jobid where j.jobname = $1 order by d.runid`,
          [TEAM_CRON_JOB],
        )
      ).rows.map((r) => r.line)
    : [];
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await client?.end();
  await db?.drop();
});

describe("adopting the seed-era state", () => {
  it("plans without writing anything", async () => {
    const schemaBefore = await schemaSnapshot(client);
    const plan = await planDatabaseAdoption({ connectionString: url, directory: migrationsDirectory });
    expect(plan.blockers).toEqual([]);
    expect(plan.steps.length).toBeGreaterThan(10);
    if (info.pgCron) {
      expect(plan.cron).toMatchObject({ schema: "public", foreign: [TEAM_CRON_JOB], move: "stay" });
    }
    expect(await schemaSnapshot(client)).toEqual(schemaBefore);
    // pg_cron keeps running the seed-era jobs meanwhile: its new run rows aside, every row is as it was.
    const rowsAfter = await rowSnapshot(client);
    const notRuns = (line: string) => !line.startsWith("cron.job_run_details ");
    expect(rowsAfter.filter(notRuns)).toEqual(rowsBefore.filter(notRuns));
    expect(rowsBefore.filter((line) => !notRuns(line)).filter((line) => !rowsAfter.includes(line))).toEqual(
      [],
    );
  });

  it("adopts, keeping every row, the team's job and its run history", async () => {
    const { applied } = await adoptDatabase({ connectionString: url, directory: migrationsDirectory });
    expect(applied[0]).toBe("001_base_schema.sql");

    const after = new Set(await rowSnapshot(client));
    const lost = rowsBefore.filter(
      (line) => /^(public|auth)\./.test(line) && !line.startsWith("public.profiles") && !after.has(line),
    );
    // profiles gained timezone; assessments and appointments gained columns: compared by id below.
    for (const table of ["profiles", "assessments", "appointments", "payments", "specialists"]) {
      const before = rowsBefore.filter((line) => line.startsWith(`public.${table} `));
      expect(await count(`select count(*) from public.${table}`), table).toBe(before.length);
      for (const line of before) {
        const row = JSON.parse(line.slice(line.indexOf(" ") + 1)) as Record<string, unknown>;
        const { rows } = await client.query<{ row: Record<string, unknown> }>(
          `select to_jsonb(t) as row from public.${table} t where t.id::text = $1`,
          [String(row.id)],
        );
        for (const [column, value] of Object.entries(row))
          expect(rows[0]?.row[column], `${table}.${column}`).toEqual(value);
      }
    }
    expect(lost.filter((line) => line.startsWith("auth."))).toEqual([]);

    if (info.pgCron) {
      expect(await count("select count(*) from cron.job where jobname = $1", [TEAM_CRON_JOB])).toBe(1);
      const history = await client.query<{ line: string }>(
        `select to_jsonb(d)::text as line from cron.job_run_details d
         join cron.job j on j.jobid = d.jobid where j.jobname = $1 order by d.runid`,
        [TEAM_CRON_JOB],
      );
      expect(history.rows.map((r) => r.line)).toEqual(teamHistory);
    }
  });

  it("has each of our cron jobs once, and each one's command runs", async () => {
    // Where pg_cron is absent the worker's scheduler runs automation.cron_jobs (name is its key).
    const { rows: jobs } = await client.query<{ name: string; command: string }>(
      "select name, command from automation.cron_jobs where enabled order by name",
    );
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    for (const job of jobs) {
      let command = job.command;
      if (info.pgCron) {
        const { rows } = await client.query<{ command: string }>(
          "select command from cron.job where jobname = $1",
          [job.name],
        );
        expect(rows, job.name).toHaveLength(1);
        expect(rows[0]?.command).toBe(job.command);
        command = rows[0]?.command ?? "";
      }
      await client.query(command);
    }
    if (!info.pgCron) return;
    // purge-cron-history ran just now: the team's history (5 to 45 days old) is still there.
    expect(
      await count(
        "select count(*) from cron.job_run_details d join cron.job j on j.jobid = d.jobid where j.jobname = $1",
        [TEAM_CRON_JOB],
      ),
    ).toBe(teamHistory.length);
  });

  it("queues exactly one report and one email when a checkup completes", async () => {
    const before = {
      report: await count("select coalesce(max(msg_id), 0) from pgmq.q_report_generation_queue"),
      email: await count("select coalesce(max(msg_id), 0) from pgmq.q_email_queue"),
    };
    await client.query("update public.assessments set status = 'completed', answers = $2 where id = $1", [
      "b0000000-0000-4000-8000-000000000002",
      { q1: 2, q2: 3, q3: 4, q4: 2, q5: 3, q6: 4 },
    ]);
    expect(
      await count("select count(*) from pgmq.q_report_generation_queue where msg_id > $1", [before.report]),
    ).toBe(1);
    expect(await count("select count(*) from pgmq.q_email_queue where msg_id > $1", [before.email])).toBe(1);
  });

  it("the worker delivers every backlog email exactly once and drains the other queues, with no dead letter", async () => {
    const sink = smtp as SmtpSink;
    worker = await startTestWorker({ databaseUrl: url, smtpPort: sink.smtpPort });
    const drained = async () => {
      for (const queue of QUEUES) if ((await count(`select count(*) from pgmq.q_${queue}`)) > 0) return false;
      return true;
    };
    // Twice, a moment apart: a report queues its report_ready email as it finishes.
    await waitFor(drained, { timeoutMs: 120_000, intervalMs: 250, what: "the four queues to drain" });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await waitFor(drained, { timeoutMs: 60_000, intervalMs: 250, what: "the four queues to drain" });
    for (const queue of QUEUES) {
      const { rows } = await client.query<{ dead: string }>(
        `select (message->'error')::text || ' ' || (message->'message')::text as dead from pgmq.q_${queue}_dlq`,
      );
      expect(
        rows.map((r) => r.dead),
        `${queue}_dlq`,
      ).toEqual([]);
    }
    // Keyed by queue and msg_id; a seed-era report_ready goes out from the report it asks for, keyed by it.
    for (const msgId of backlogEmails) {
      const key = legacyIdempotencyKey("email_queue", msgId);
      expect(
        await count(
          "select count(*) from automation.email_deliveries where idempotency_key in ($1, 'report_ready:' || $1) and status = 'sent'",
          [key],
        ),
        `backlog email ${msgId}`,
      ).toBe(1);
    }
    expect(sink.messages().length).toBe(
      await count("select count(*) from automation.email_deliveries where status = 'sent'"),
    );
  });

  it("does nothing the second time; db:migrate has nothing to apply; the doctor passes once the reported rows are fixed", async () => {
    await worker?.stop();
    worker = undefined;
    const second = await adoptDatabase({ connectionString: url, directory: migrationsDirectory });
    expect(second.applied).toEqual([]);
    const migrate = await runMigrations({ connectionString: url, directory: migrationsDirectory });
    expect(migrate.applied).toEqual([]);
    // The runbook's step before the doctor: the rows the plan named are fixed, the checks validated.
    await client.query("update public.profiles set locale = 'en' where locale not in ('ru', 'en')");
    await client.query("update public.assessments set status = 'in_progress' where status = 'draft'");
    await client.query("alter table public.profiles validate constraint profiles_locale_check");
    await client.query("alter table public.assessments validate constraint assessments_status_check");
    const doctor = await runDoctor(url);
    expect(doctor.code, doctor.output).toBe(0);
  });
});
