// Each test breaks one thing in a transaction, runs the check that should notice, and rolls back.
// Where the printed fix is SQL, the test runs it in the same transaction and checks again: a fix
// that does not fix is a bug too.
import { createTestDatabase, devstackInfo, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cronJobsCheck } from "../src/checks/cron-jobs.ts";
import { extensionsCheck } from "../src/checks/extensions.ts";
import { functionGrantsCheck } from "../src/checks/function-grants.ts";
import { functionsCheck } from "../src/checks/functions.ts";
import { createMigrationsCheck } from "../src/checks/migrations.ts";
import { pgmqSchemaAccessCheck } from "../src/checks/pgmq-schema-access.ts";
import { createQueueHealthCheck, queueHealthCheck } from "../src/checks/queue-health.ts";
import { queueNotifyTriggersCheck } from "../src/checks/queue-notify-triggers.ts";
import { queuesCheck } from "../src/checks/queues.ts";
import { rowLevelSecurityCheck } from "../src/checks/row-level-security.ts";
import { securityDefinerSearchPathCheck } from "../src/checks/security-definer-search-path.ts";
import { webhookTriggersCheck } from "../src/checks/webhook-triggers.ts";
import type { Check, CheckResult, Finding } from "../src/doctor/check.ts";
import { formatResult } from "../src/doctor/format-results.ts";
import { checkAfter, fixSql, runOne, snapshotAppliedMigrations } from "./support/run-in-transaction.ts";

const QUEUE_EMAIL_TASK = "public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)";

let db: TestDatabase;
let client: pg.Client;
// Against what the template applied: supabase/migrations may be edited while tests run.
let migrationsCheck: Check;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  migrationsCheck = createMigrationsCheck(await snapshotAppliedMigrations(client));
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

function only(result: CheckResult): Finding {
  expect(result.findings).toHaveLength(1);
  return result.findings[0]!;
}

/** After the fix, in the same transaction, the check passes again. */
function passesAfter(check: Check, sql: (result: CheckResult) => string | undefined) {
  return async (result: CheckResult) => {
    await client.query(fixSql(sql(result)));
    expect((await runOne(client, check)).status).toBe("pass");
  };
}

describe("webhook-triggers", () => {
  it("fails when on_new_appointment is dropped, and names the migration that creates it", async () => {
    const result = await checkAfter(
      client,
      "drop trigger on_new_appointment on public.appointments",
      webhookTriggersCheck,
    );
    expect(result.status).toBe("fail");
    expect(formatResult(result)).toEqual([
      "FAIL webhook-triggers: trigger on_new_appointment on public.appointments is missing: a booking sends no confirmation email" +
        " — fix: apply supabase/migrations/032_webhook_triggers.sql (pnpm db:migrate); where it is already applied, " +
        're-create it with the "create trigger on_new_appointment" statement of that file, in a new migration',
    ]);
  });

  it("fails when on_checkup_completed is disabled, and its fix enables it", async () => {
    const result = await checkAfter(
      client,
      "alter table public.assessments disable trigger on_checkup_completed",
      webhookTriggersCheck,
      passesAfter(webhookTriggersCheck, (r) => only(r).fix!),
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem:
        "trigger on_checkup_completed on public.assessments is disabled: a completed checkup queues no report, email or event",
      fix: "alter table public.assessments enable trigger on_checkup_completed",
    });
  });

  it("fails when on_payment_status_change sits on another table", async () => {
    const result = await checkAfter(
      client,
      `drop trigger on_payment_status_change on public.payments;
       create trigger on_payment_status_change after update of status on public.appointments
         for each row execute function public.handle_payment_status_change()`,
      webhookTriggersCheck,
    );
    expect(only(result).problem).toBe(
      "trigger on_payment_status_change is on public.appointments, not on public.payments: a payment marks no appointment paid and notifies nobody",
    );
  });
});

describe("queues", () => {
  it("fails when a dead-letter queue is dropped, and its fix re-creates it", async () => {
    const result = await checkAfter(
      client,
      "select pgmq.drop_queue('email_queue_dlq')",
      queuesCheck,
      passesAfter(queuesCheck, (r) => fixSql(only(r).fix, "where it is already applied, ")),
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem: "dead-letter queue of email_queue email_queue_dlq does not exist",
      fix: "apply supabase/migrations/031_setup_queues.sql (pnpm db:migrate); where it is already applied, select pgmq.create('email_queue_dlq')",
    });
  });
});

describe("queue-notify-triggers", () => {
  it("fails when a queue table loses its NOTIFY trigger, and its fix restores it", async () => {
    const result = await checkAfter(
      client,
      "drop trigger notify_insert on pgmq.q_analytics_queue",
      queueNotifyTriggersCheck,
      passesAfter(queueNotifyTriggersCheck, (r) => fixSql(only(r).fix, "where it is already applied, ")),
    );
    expect(only(result).problem).toBe(
      "pgmq.q_analytics_queue has no NOTIFY trigger: the worker only finds analytics_queue's messages when it polls",
    );
  });

  it("fails when the NOTIFY trigger passes another queue's name", async () => {
    const result = await checkAfter(
      client,
      `create or replace trigger notify_insert after insert on pgmq.q_email_queue
         for each statement execute function public.pgmq_notify_insert('analytics_queue')`,
      queueNotifyTriggersCheck,
    );
    expect(only(result).problem).toContain("does not pass the queue name 'email_queue'");
  });
});

describe("function-grants", () => {
  it("fails when anon may execute queue_email_task, and its fix revokes it", async () => {
    const result = await checkAfter(
      client,
      `grant execute on function ${QUEUE_EMAIL_TASK} to anon`,
      functionGrantsCheck,
      passesAfter(functionGrantsCheck, (r) => only(r).fix),
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem: `anon can execute ${QUEUE_EMAIL_TASK}: anyone holding the public anon key can call it`,
      fix: `revoke execute on function ${QUEUE_EMAIL_TASK} from public, anon, authenticated`,
    });
  });

  it("fails when execute is granted to public (which anon and authenticated inherit)", async () => {
    const result = await checkAfter(
      client,
      "grant execute on function public.pgmq_read(text, integer, integer) to public",
      functionGrantsCheck,
      passesAfter(functionGrantsCheck, (r) => r.findings[0]!.fix!),
    );
    expect(result.findings.map((finding) => finding.problem)).toEqual([
      "anon can execute public.pgmq_read(text, integer, integer): anyone holding the public anon key can call it",
      "authenticated can execute public.pgmq_read(text, integer, integer): any signed-in user can call it",
    ]);
  });

  it("fails when anon may request reports, and its fix keeps them for signed-in users", async () => {
    const result = await checkAfter(
      client,
      "grant execute on function public.request_assessment_report(uuid) to public",
      functionGrantsCheck,
      passesAfter(functionGrantsCheck, (r) => only(r).fix),
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem:
        "anon can execute public.request_assessment_report(uuid): anyone holding the public anon key can call it",
      fix:
        "revoke execute on function public.request_assessment_report(uuid) from public, anon; " +
        "grant execute on function public.request_assessment_report(uuid) to authenticated",
    });
  });

  it("fails when signed-in users lose request_assessment_report", async () => {
    const result = await checkAfter(
      client,
      "revoke execute on function public.request_assessment_report(uuid) from authenticated",
      functionGrantsCheck,
      passesAfter(functionGrantsCheck, (r) => only(r).fix),
    );
    expect(only(result).problem).toBe(
      'authenticated cannot execute public.request_assessment_report(uuid): signed-in users get "permission denied"',
    );
  });

  it("fails when service_role loses a queue function", async () => {
    const result = await checkAfter(
      client,
      "revoke execute on function public.pgmq_dead_letter(text, bigint, text, text, integer) from service_role",
      functionGrantsCheck,
      passesAfter(functionGrantsCheck, (r) => only(r).fix),
    );
    expect(only(result).fix).toBe(
      "grant execute on function public.pgmq_dead_letter(text, bigint, text, text, integer) to service_role",
    );
  });
});

describe("pgmq-schema-access", () => {
  it("fails when authenticated gets usage on schema pgmq, and its fix revokes it", async () => {
    const result = await checkAfter(
      client,
      "grant usage on schema pgmq to authenticated",
      pgmqSchemaAccessCheck,
      passesAfter(pgmqSchemaAccessCheck, (r) => only(r).fix),
    );
    expect(only(result).problem).toContain("authenticated has usage on schema pgmq");
  });
});

describe("row-level-security", () => {
  it("fails when a table in public has RLS disabled, and its fix enables it", async () => {
    const result = await checkAfter(
      client,
      "alter table public.payments disable row level security",
      rowLevelSecurityCheck,
      passesAfter(rowLevelSecurityCheck, (r) => fixSql(only(r).fix)),
    );
    expect(formatResult(result)).toEqual([
      "FAIL row-level-security: public.payments has row level security disabled: every row is open to whatever the API roles are granted" +
        " — fix: alter table public.payments enable row level security; (and make sure it has a policy for each role that uses it)",
    ]);
  });

  it("fails for a new table created without RLS", async () => {
    const result = await checkAfter(
      client,
      "create table public.notes (id bigint primary key)",
      rowLevelSecurityCheck,
    );
    expect(only(result).problem).toMatch(/^public\.notes has row level security disabled/);
  });
});

describe("security-definer-search-path", () => {
  it("fails when a security definer function loses its search_path, and its fix pins it again", async () => {
    const result = await checkAfter(
      client,
      "alter function public.pgmq_send(text, jsonb, integer) reset search_path",
      securityDefinerSearchPathCheck,
      passesAfter(securityDefinerSearchPathCheck, (r) => fixSql(only(r).fix)),
    );
    expect(only(result).problem).toBe(
      "security definer function public.pgmq_send(text, jsonb, integer) has no search_path setting: a caller can shadow the objects it uses",
    );
  });

  it("fails when the search_path is not empty", async () => {
    const result = await checkAfter(
      client,
      "alter function public.track_event(text, text, uuid, jsonb, timestamp with time zone, text) set search_path = public",
      securityDefinerSearchPathCheck,
    );
    expect(only(result).problem).toContain('has search_path=public instead of search_path=""');
  });
});

describe("functions", () => {
  it("fails when request_assessment_report is dropped, naming 033 (that creates it) and schema.sql's current version", async () => {
    const result = await checkAfter(
      client,
      "drop function public.request_assessment_report(uuid)",
      functionsCheck,
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem: "function public.request_assessment_report does not exist",
      fix:
        "apply supabase/migrations/033_pgmq_rpc_wrappers.sql (pnpm db:migrate); where it is already applied, " +
        're-create it as supabase/schema.sql shows it (the block "-- function public.request_assessment_report(…)": definition and grants), in a new migration',
    });
  });
});

describe("migrations", () => {
  it("fails when a migration record is deleted, naming the file to apply", async () => {
    const result = await checkAfter(
      client,
      "delete from supabase_migrations.schema_migrations where version = '032'",
      migrationsCheck,
    );
    expect(only(result)).toEqual({
      severity: "fail",
      problem: "032_webhook_triggers.sql is not applied",
      fix: "apply supabase/migrations/032_webhook_triggers.sql (pnpm db:migrate)",
    });
  });

  it("fails listing every migration when none is recorded", async () => {
    const result = await checkAfter(
      client,
      "delete from supabase_migrations.schema_migrations",
      migrationsCheck,
    );
    expect(only(result).problem).toMatch(
      /^\d+ migrations are not applied: 001_base_schema\.sql, 030_setup_cron_jobs\.sql, /,
    );
    expect(only(result).fix).toBe("apply them in order (pnpm db:migrate)");
  });

  it("warns when an applied file has changed since", async () => {
    const result = await checkAfter(
      client,
      "update supabase_migrations.schema_migrations set statements = array['-- the text as it was applied'] where version = '031'",
      migrationsCheck,
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toBe(
      "031_setup_queues.sql changed after it was applied: the database has the old text",
    );
  });

  it("warns about a recorded migration with no file", async () => {
    const result = await checkAfter(
      client,
      "insert into supabase_migrations.schema_migrations (version, name, statements) values ('999', 'from_another_branch', array['select 1'])",
      migrationsCheck,
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toContain("migration 999_from_another_branch is recorded but has no file");
  });
});

describe("cron-jobs", () => {
  it("fails when a job the automation needs is not defined", async () => {
    const result = await checkAfter(
      client,
      "delete from automation.cron_jobs where name = 'send-appointment-reminders'",
      cronJobsCheck,
    );
    expect(only(result).problem).toBe(
      "job send-appointment-reminders is not defined in automation.cron_jobs",
    );
    expect(only(result).fix).toContain("apply supabase/migrations/030_setup_cron_jobs.sql (pnpm db:migrate)");
  });

  it("warns when a job is disabled", async () => {
    const result = await checkAfter(
      client,
      "update automation.cron_jobs set enabled = false where name = 'cleanup-old-assessments'",
      cronJobsCheck,
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toContain("job cleanup-old-assessments is disabled");
  });

  it("warns with the message when the scheduler's last run of a job failed", async () => {
    const result = await checkAfter(
      client,
      `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
           ('update-appointment-statuses', 'succeeded', '{"in_progress": 0}', now() - interval '10 minutes', now() - interval '10 minutes'),
           ('update-appointment-statuses', 'failed', 'permission denied for table appointments', now() - interval '5 minutes', now() - interval '5 minutes')`,
      cronJobsCheck,
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toMatch(
      /^the last run of update-appointment-statuses \(started .+\) failed: permission denied for table appointments$/,
    );
    expect(only(result).fix).toContain(
      "from automation.job_run_details where job_name = 'update-appointment-statuses'",
    );
  });

  it("does not warn when a failed run was followed by a successful one", async () => {
    const result = await checkAfter(
      client,
      `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
         ('update-appointment-statuses', 'failed', 'boom', now() - interval '10 minutes', now() - interval '10 minutes'),
         ('update-appointment-statuses', 'succeeded', '{}', now() - interval '5 minutes', now() - interval '5 minutes')`,
      cronJobsCheck,
    );
    expect(result.status).toBe("pass");
    expect(result.note).toMatch(/run by the worker's scheduler \(last run started /);
  });
});

describe("queue-health", () => {
  it("warns with the count and how to inspect when a dead-letter queue holds messages", async () => {
    let inspected = 0;
    const result = await checkAfter(
      client,
      `select pgmq.send('email_queue_dlq', '{"queue": "email_queue", "error": {"code": "smtp_rejected", "message": "550"}}');
       select pgmq.send('email_queue_dlq', '{"queue": "email_queue", "error": {"code": "invalid_message", "message": "to"}}');`,
      queueHealthCheck,
      async (r) => {
        const { rowCount } = await client.query(fixSql(only(r).fix!, "inspect them: "));
        inspected = rowCount ?? 0;
      },
    );
    expect(result.status).toBe("warn");
    expect(only(result).problem).toBe(
      "email_queue_dlq holds 2 dead letters: messages of email_queue that failed for good",
    );
    expect(inspected).toBe(2);
  });

  it("warns when the oldest visible message has waited longer than the limit", async () => {
    const result = await checkAfter(
      client,
      `select pgmq.send('analytics_queue', '{"event": "email_sent"}');
       update pgmq.q_analytics_queue set enqueued_at = now() - interval '2 hours', vt = now() - interval '2 hours'`,
      queueHealthCheck,
    );
    expect(only(result).problem).toBe(
      "analytics_queue has 1 message (1 visible), the oldest waiting 2 h 0 min: no worker seems to consume it",
    );
  });

  it("does not warn about a message younger than the limit", async () => {
    const result = await checkAfter(
      client,
      `select pgmq.send('analytics_queue', '{"event": "email_sent"}');
       update pgmq.q_analytics_queue set enqueued_at = now() - interval '2 minutes', vt = now() - interval '2 minutes'`,
      createQueueHealthCheck({ staleAfterSeconds: 600 }),
    );
    expect(result.status).toBe("pass");
    expect(result.note).toBe("1 message waiting, 0 dead letters");
  });
});

describe("extensions", () => {
  it.skipIf(devstackInfo().pgmqExtension)(
    "fails when the pgmq-compatible schema lacks a pgmq 1.5 function",
    async () => {
      const result = await checkAfter(client, "drop function pgmq.metrics_all()", extensionsCheck);
      const failure = result.findings.find((finding) => finding.severity === "fail");
      expect(failure?.problem).toBe(
        "pgmq-compatible SQL (schema pgmq, no extension: local development only) lacks pgmq 1.5 objects: pgmq.metrics_all()",
      );
    },
  );

  it("fails, saying how to enable it, when pgmq is not installed at all", async () => {
    const result = await checkAfter(
      client,
      devstackInfo().pgmqExtension ? "drop extension pgmq cascade" : "drop schema pgmq cascade",
      extensionsCheck,
    );
    const failure = result.findings.find((finding) => finding.severity === "fail");
    expect(failure?.problem).toBe("pgmq is not installed (no pgmq extension, no pgmq schema)");
    expect(failure?.fix).toContain("Database > Integrations > Queues");
  });
});
