// The `balansity` CLI against a real migrated database, as a child process: every operator command
// with its table and its --json document, and the exit codes (0 ok, 1 failed/refused, 2 usage,
// 69 unreachable, 78 configuration).
import { createServer } from "node:net";
import { type OpenTestDatabase, openTestDatabase } from "@balansity/devstack/testing";
import { emailMessageSchema, reportMessageSchema } from "@balansity/queues";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { jsonOf, runBalansity } from "./support/run-cli.ts";

// Each run starts Node and compiles the CLI with tsx: seconds apiece on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let database: OpenTestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  database = await openTestDatabase("migrated");
  env = { DATABASE_URL: database.db.url };
});

afterAll(async () => {
  await database?.close();
});

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

async function count(sql: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(`select (${sql})::int as n`);
  return rows[0]!.n;
}

/** `n` dead letters of email_queue as the worker writes them (pgmq_dead_letter's shape), in one statement. */
async function deadLetters(n: number, code: string): Promise<void> {
  await database.pool.query(
    `select pgmq.send_batch('email_queue_dlq', array_agg(jsonb_build_object(
       'queue', 'email_queue', 'original_msg_id', i,
       'message', jsonb_build_object('version', 1, 'idempotency_key', 'cli-' || $2 || '-' || i,
         'to', 'user' || i || '@example.com', 'template', 'report_ready', 'locale', 'ru',
         'timezone', 'Europe/Moscow', 'priority', 0,
         'variables', jsonb_build_object('assessment_id', '9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90',
                                         'report_url', 'https://app.balansity.ru/r/' || i)),
       'error', jsonb_build_object('code', $2, 'message', '550 <user' || i || '@example.com> unknown'),
       'attempts', 5, 'enqueued_at', now(), 'failed_at', now()) order by i))
     from generate_series(1, $1::int) as i`,
    [n, code],
  );
}

async function clearQueues(): Promise<void> {
  await database.pool.query("select pgmq.purge_queue('email_queue'), pgmq.purge_queue('email_queue_dlq')");
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("configuration and connection", () => {
  it("names DATABASE_URL and exits 78 when it is not set", async () => {
    const run = await runBalansity(["queues", "list"], {});
    expect(run.code).toBe(78);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^invalid database configuration \(1 problem\):\n- DATABASE_URL is not set/);
    const json = await runBalansity(["queues", "list", "--json"], {});
    expect(json.code).toBe(78);
    expect(jsonOf(json)).toMatchObject({ ok: false, error: { code: "invalid_config" } });
  });

  it("says DATABASE_URL is wrong (78) when the server refuses its database", async () => {
    const url = new URL(database.db.url);
    url.pathname = "/no_such_database";
    const run = await runBalansity(["cron", "status"], { DATABASE_URL: url.toString() });
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(
      /^DATABASE_URL is wrong: the server refused .*database "no_such_database" does not exist/,
    );
  });

  it("exits 69 when nothing listens where DATABASE_URL points", async () => {
    const url = new URL(database.db.url);
    url.port = String(await closedPort());
    const run = await runBalansity(["queues", "list", "--json"], { DATABASE_URL: url.toString() });
    expect(run.code).toBe(69);
    expect(run.stderr).toMatch(/^cannot reach .*ECONNREFUSED/);
    expect(jsonOf(run)).toMatchObject({ ok: false, error: { code: "connection_failed" } });
  });

  it("exits 2 on an unknown command or a missing argument", async () => {
    expect((await runBalansity(["queues", "drain"], env)).code).toBe(2);
    const missing = await runBalansity(["queues", "peek"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'queue'");
  });

  it("is refused (exit 1) for a login role that is neither an operator nor service_role", async () => {
    const role = `t_plain_${Math.random().toString(16).slice(2, 10)}`;
    await database.pool.query(`create role ${role} login`);
    try {
      const url = new URL(database.db.url);
      url.username = role;
      const run = await runBalansity(["queues", "list"], { DATABASE_URL: url.toString() });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^refused by the database: permission denied for function console_queue_overview/,
      );
    } finally {
      await database.pool.query(`drop role ${role}`);
    }
  });

  it("acts as service_role for a login role that may switch to it (as postgres may on Supabase)", async () => {
    const role = `t_member_${Math.random().toString(16).slice(2, 10)}`;
    await database.pool.query(`create role ${role} login; grant service_role to ${role}`);
    try {
      const url = new URL(database.db.url);
      url.username = role;
      const run = await runBalansity(["queues", "list", "--json"], { DATABASE_URL: url.toString() });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect((jsonOf(run) as { queues: unknown[] }).queues).toHaveLength(4);
    } finally {
      await database.pool.query(`drop owned by ${role}; drop role ${role}`);
    }
  });
});

describe("queues", () => {
  it("lists every queue as a table and as JSON", async () => {
    await clearQueues();
    await database.pool.query(
      "select pgmq.send('email_queue', '{\"a\": 1}'::jsonb), pgmq.send('email_queue', '{\"a\": 2}'::jsonb)",
    );
    const table = await runBalansity(["queues", "list"], env, { viaBin: true });
    expect(table.code).toBe(0);
    const output = lines(table.stdout);
    expect(output[0]).toBe("QUEUE                     DEPTH  OLDEST  DEAD LETTERS  PROCESSED 1H");
    expect(output).toHaveLength(5);
    expect(output.find((line) => line.startsWith("email_queue "))).toMatch(
      /^email_queue\s+2\s+\d+s\s+0\s+0$/,
    );

    const json = await runBalansity(["queues", "list", "--json"], env);
    expect(json.code).toBe(0);
    const document = jsonOf(json) as { ok: boolean; queues: { queue_name: string; depth: number }[] };
    expect(document.ok).toBe(true);
    expect(document.queues.map((queue) => queue.queue_name)).toEqual([
      "analytics_queue",
      "email_queue",
      "payment_processing_queue",
      "report_generation_queue",
    ]);
    expect(document.queues.find((queue) => queue.queue_name === "email_queue")).toMatchObject({
      depth: 2,
      dlq_depth: 0,
    });
  });

  it("shows the metrics history of a queue", async () => {
    await database.pool.query("select automation.sample_queue_metrics(now() - interval '1 minute')");
    await database.pool.query("select automation.sample_queue_metrics(now())");
    const run = await runBalansity(["queues", "metrics", "email_queue", "--hours", "1", "--json"], env);
    expect(run.code).toBe(0);
    const document = jsonOf(run) as { hours: number; samples: { queue_name: string; depth: number }[] };
    expect(document.hours).toBe(1);
    expect(document.samples).toHaveLength(2);
    expect(document.samples.every((sample) => sample.queue_name === "email_queue")).toBe(true);
    const bad = await runBalansity(["queues", "metrics", "--hours", "999"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('--hours must be a whole number from 1 to 168 (got "999")\n');
  });

  it("peeks at messages with personal data masked; an unknown queue is a usage error", async () => {
    await clearQueues();
    await database.pool.query(
      `select pgmq.send('email_queue', '{"to": "anna.ivanova@example.com", "variables": {"user_name": "Анна Иванова"}}'::jsonb)`,
    );
    const run = await runBalansity(["queues", "peek", "email_queue", "--json"], env);
    expect(run.code).toBe(0);
    expect((jsonOf(run) as { messages: { message: unknown }[] }).messages.map((row) => row.message)).toEqual([
      { to: "a***@e***", variables: { user_name: "А*** И***" } },
    ]);
    const table = await runBalansity(["queues", "peek", "email_queue"], env);
    expect(table.stdout).toContain('{"to":"a***@e***"');
    expect(table.stdout).not.toContain("anna.ivanova");

    const unknown = await runBalansity(["queues", "peek", "emails"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('queue_name "emails" is not a queue');
  });
});

describe("dead letters", () => {
  it("lists dead letters, optionally of one error code", async () => {
    await clearQueues();
    await deadLetters(2, "smtp_rejected");
    await deadLetters(1, "invalid_message");
    const run = await runBalansity(["dlq", "list", "email_queue", "--code", "smtp_rejected", "--json"], env);
    expect(run.code).toBe(0);
    const rows = (
      jsonOf(run) as { dead_letters: { error_code: string; attempts: number; error_message: string }[] }
    ).dead_letters;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      error_code: "smtp_rejected",
      attempts: 5,
      error_message: "550 <u***@e***> unknown",
    });
    const table = await runBalansity(["dlq", "list", "email_queue"], env);
    expect(lines(table.stdout)).toHaveLength(4);
  });

  it("retries one by id, reports what it could not find (exit 1), and refuses to guess which (exit 2)", async () => {
    await clearQueues();
    await deadLetters(2, "smtp_rejected");
    const [first] = (
      await database.pool.query<{ msg_id: string }>(
        "select msg_id from pgmq.q_email_queue_dlq order by msg_id",
      )
    ).rows;
    const run = await runBalansity(["dlq", "retry", "email_queue", "--id", first!.msg_id], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("retried 1 of 1 dead letters of email_queue: back in email_queue\n");
    expect(await count("select count(*) from pgmq.q_email_queue")).toBe(1);

    const gone = await runBalansity(["dlq", "retry", "email_queue", "--id", first!.msg_id, "--json"], env);
    expect(gone.code).toBe(1);
    expect(jsonOf(gone)).toEqual({ ok: false, queue: "email_queue", requested: 1, retried: 0 });

    const neither = await runBalansity(["dlq", "retry", "email_queue"], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("name the dead letters: --id <msg_id...>, or --all");
    expect((await runBalansity(["dlq", "retry", "email_queue", "--id", "abc"], env)).code).toBe(2);
  });

  it("retries 10,000 dead letters in batches; every message is back and parses with the worker's schema", async () => {
    await clearQueues();
    await deadLetters(10_000, "smtp_rejected");
    await deadLetters(3, "invalid_message");
    const run = await runBalansity(
      ["dlq", "retry", "email_queue", "--all", "--code", "smtp_rejected", "--batch-size", "1000", "--json"],
      env,
    );
    expect(run.code).toBe(0);
    // Not a terminal: no progress bar on stderr.
    expect(run.stderr).toBe("");
    expect(jsonOf(run)).toEqual({ ok: true, queue: "email_queue", requested: 10_000, retried: 10_000 });
    expect(await count("select count(*) from pgmq.q_email_queue")).toBe(10_000);
    expect(await count("select count(*) from pgmq.q_email_queue_dlq")).toBe(3);
    const { rows } = await database.pool.query<{ message: unknown }>(
      "select message from pgmq.q_email_queue",
    );
    expect(rows.filter((row) => !emailMessageSchema.safeParse(row.message).success)).toEqual([]);
  });

  it("discards only with confirmation: without a terminal and without --yes it refuses (exit 2) and keeps them", async () => {
    await clearQueues();
    await deadLetters(3, "smtp_rejected");
    const refused = await runBalansity(["dlq", "discard", "email_queue", "--all"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "Discard 3 dead letters of email_queue? Not asked: standard input is not a terminal; pass --yes to confirm\n",
    );
    expect(await count("select count(*) from pgmq.q_email_queue_dlq")).toBe(3);

    const done = await runBalansity(["dlq", "discard", "email_queue", "--all", "--yes", "--json"], env);
    expect(done.code).toBe(0);
    expect(jsonOf(done)).toEqual({ ok: true, queue: "email_queue", requested: 3, discarded: 3 });
    expect(await count("select count(*) from pgmq.q_email_queue_dlq")).toBe(0);

    const nothing = await runBalansity(["dlq", "discard", "email_queue", "--all"], env);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toBe("no dead letters of email_queue: nothing to do\n");
  });
});

describe("cron, test emails, reports", () => {
  it("shows every job and who runs it", async () => {
    const run = await runBalansity(["cron", "status", "--json"], env);
    expect(run.code).toBe(0);
    const jobs = (jsonOf(run) as { jobs: { jobname: string; source: string; active: boolean }[] }).jobs;
    expect(jobs.map((job) => job.jobname)).toContain("sample-queue-metrics");
    expect(jobs.every((job) => job.source === "worker" && job.active)).toBe(true);
    const table = await runBalansity(["cron", "status"], env);
    expect(lines(table.stdout)[0]).toMatch(
      /^JOB\s+SCHEDULE\s+ACTIVE\s+RUN BY\s+LAST RUN\s+STATUS\s+FAILED 24H$/,
    );
    expect(lines(table.stdout)).toHaveLength(jobs.length + 1);
  });

  it("shows a job's last runs, newest first; an unknown job is a usage error", async () => {
    await database.pool.query(
      `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
         ('purge-queue-archives', 'failed', 'boom', now() - interval '2 hours', now() - interval '2 hours'),
         ('purge-queue-archives', 'succeeded', '{}', now() - interval '1 hour', now() - interval '1 hour')`,
    );
    const run = await runBalansity(["cron", "runs", "purge-queue-archives", "--json"], env);
    expect(run.code).toBe(0);
    const runs = (jsonOf(run) as { runs: { status: string; message: string }[] }).runs;
    expect(runs.map(({ status, message }) => ({ status, message }))).toEqual([
      { status: "succeeded", message: "{}" },
      { status: "failed", message: "boom" },
    ]);
    const unknown = await runBalansity(["cron", "runs", "nope"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('jobname "nope" is not a job');
  });

  it("queues a test email, and names every bad argument (exit 2) without touching the database", async () => {
    const run = await runBalansity(
      ["send-test-email", "ops@example.com", "payment_failed", "--locale", "en", "--json"],
      env,
    );
    expect(run.code).toBe(0);
    const { msg_id: msgId } = jsonOf(run) as { msg_id: number };
    const { rows } = await database.pool.query("select message from pgmq.q_email_queue where msg_id = $1", [
      msgId,
    ]);
    expect(emailMessageSchema.parse(rows[0].message)).toMatchObject({
      to: "ops@example.com",
      template: "payment_failed",
      locale: "en",
    });

    const bad = await runBalansity(["send-test-email", "nope", "hello", "--locale", "de"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^send-test-email: to must be an email address; template must be one of .*; locale must be one of ru, en\n$/,
    );
  });

  it("regenerates a report; an unknown checkup fails (1) and a bad id is a usage error (2)", async () => {
    const { rows } = await database.pool.query<{ id: string; user_id: string }>(
      `with u as (insert into auth.users (id, email) values (gen_random_uuid(), 'cli-report@example.com') returning id)
       insert into public.assessments (user_id, kind, title, status) select id, 'wellbeing', 'Checkup', 'completed' from u
       returning id, user_id`,
    );
    const run = await runBalansity(["reports", "regenerate", rows[0]!.id], env);
    expect(run.code).toBe(0);
    const msgId = run.stdout.match(/report_generation_queue message (\d+)\n$/)?.[1];
    const job = await database.pool.query(
      "select message from pgmq.q_report_generation_queue where msg_id = $1",
      [msgId],
    );
    expect(reportMessageSchema.parse(job.rows[0].message)).toMatchObject({
      assessment_id: rows[0]!.id,
      user_id: rows[0]!.user_id,
      requested_by: "service",
    });

    const unknown = await runBalansity(
      ["reports", "regenerate", "00000000-0000-4000-8000-000000000000", "--json"],
      env,
    );
    expect(unknown.code).toBe(1);
    expect(jsonOf(unknown)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await runBalansity(["reports", "regenerate", "42"], env)).code).toBe(2);
  });
});
