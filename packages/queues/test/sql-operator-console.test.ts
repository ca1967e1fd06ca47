// supabase/migrations/041_operator_console.sql against a real database: who may call the console
// functions, what each returns to an operator, masking, dead-letter retry and discard, and the
// per-minute queue metrics history.
import { randomUUID } from "node:crypto";
import { emailTemplateExamples, emailTemplateNames } from "@balansity/emails";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterSchema, emailMessageSchema, reportMessageSchema } from "../src/index.ts";
import { asCaller } from "./support/console-roles.ts";
import {
  createAssessment,
  createUser,
  messagesIn,
  openQueueDatabase,
  type QueueDatabase,
  sendRaw,
} from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
  // The completed checkup console_regenerate_report is called with.
  await database.pool.query(
    `insert into auth.users (id, email) values ('99999999-0000-4000-8000-00000000c0de', 'owner@example.com');
     insert into public.assessments (id, user_id, kind, title, status)
     values ('aaaaaaaa-0000-4000-8000-00000000c0de', '99999999-0000-4000-8000-00000000c0de', 'wellbeing', 'Checkup', 'completed')`,
  );
});

afterAll(async () => {
  await database?.close();
});

/** Every console RPC with arguments that succeed for an operator. */
const calls = [
  { fn: "public.console_queue_overview()", sql: "select * from public.console_queue_overview()" },
  {
    fn: "public.console_queue_history(text, integer)",
    sql: "select * from public.console_queue_history('email_queue', 6)",
  },
  {
    fn: "public.console_peek_messages(text, integer)",
    sql: "select * from public.console_peek_messages('email_queue', 10)",
  },
  {
    fn: "public.console_dead_letters(text, integer, text)",
    sql: "select * from public.console_dead_letters('email_queue', 10, null)",
  },
  {
    fn: "public.console_dead_letter_ids(text, text)",
    sql: "select * from public.console_dead_letter_ids('email_queue', null)",
  },
  {
    fn: "public.console_retry_dead_letters(text, bigint[], text)",
    sql: "select public.console_retry_dead_letters('email_queue', array[-1]::bigint[])",
  },
  {
    fn: "public.console_discard_dead_letters(text, bigint[], text)",
    sql: "select public.console_discard_dead_letters('email_queue', array[-1]::bigint[])",
  },
  { fn: "public.console_cron_jobs()", sql: "select * from public.console_cron_jobs()" },
  {
    fn: "public.console_cron_runs(text, integer)",
    sql: "select * from public.console_cron_runs('sample-queue-metrics', 5)",
  },
  {
    fn: "public.console_email_deliveries(text, integer)",
    sql: "select * from public.console_email_deliveries(null, 10)",
  },
  { fn: "public.console_email_budget(jsonb)", sql: "select * from public.console_email_budget('{}')" },
  {
    fn: "public.console_queue_test_email(text, text, text)",
    sql: "select public.console_queue_test_email('ops@example.com', 'report_ready', 'en')",
  },
  { fn: "public.console_reports(integer)", sql: "select * from public.console_reports(10)" },
  {
    fn: "public.console_regenerate_report(uuid)",
    sql: "select public.console_regenerate_report('aaaaaaaa-0000-4000-8000-00000000c0de')",
  },
  { fn: "public.console_alerts()", sql: "select public.console_alerts()" },
] as const;

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const outcome = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(outcome, "expected the call to fail").toBeInstanceOf(Error);
  return outcome as { code?: string; message: string };
}

/** A dead letter of email_queue made the way the worker makes one (pgmq_dead_letter). */
async function deadLetterEmail(
  code: string,
  to = "anna.ivanova@example.com",
): Promise<{ dlqId: number; original: unknown }> {
  const { rows } = await database.pool.query<{ msg_id: string }>(
    `select public.queue_email_task("to" => $1, subject => null, template => 'report_ready',
       variables => '{"user_name": "Анна Иванова", "assessment_id": "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90", "report_url": "https://app.balansity.ru/r/1"}'::jsonb) as msg_id`,
    [to],
  );
  const msgId = rows[0]!.msg_id;
  const original = (await messagesIn(database.pool, "email_queue")).find(
    (row) => row.msg_id === Number(msgId),
  )?.message;
  const dead = await database.pool.query<{ id: string }>(
    `select public.pgmq_dead_letter('email_queue', $1, $2, $3, 5) as id`,
    [msgId, code, `550 5.1.1 <${to}>: mailbox unavailable`],
  );
  return { dlqId: Number(dead.rows[0]!.id), original };
}

async function clearQueues(): Promise<void> {
  await database.pool.query("select pgmq.purge_queue('email_queue'), pgmq.purge_queue('email_queue_dlq')");
}

describe("who may call", () => {
  it("grants every console function to operator and service_role only (not authenticated), as security definer with an empty search_path and a comment", async () => {
    const { rows } = await database.pool.query<{
      fn: string;
      anon: boolean;
      authenticated: boolean;
      operator: boolean;
      service_role: boolean;
      public: boolean;
      definer: boolean;
      config: string[] | null;
      comment: string | null;
    }>(
      `select p.oid::regprocedure::text as fn,
              has_function_privilege('anon', p.oid, 'execute') as anon,
              has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
              has_function_privilege('operator', p.oid, 'execute') as operator,
              has_function_privilege('service_role', p.oid, 'execute') as service_role,
              exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                      where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public,
              p.prosecdef as definer, p.proconfig as config, obj_description(p.oid, 'pg_proc') as comment
       from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'console\\_%'
       order by 1`,
    );
    expect(rows.map((row) => `public.${row.fn.replaceAll(",", ", ")}`).sort()).toEqual(
      calls.map((call) => call.fn).sort(),
    );
    for (const row of rows) {
      expect(row, row.fn).toMatchObject({
        anon: false,
        authenticated: false,
        operator: true,
        service_role: true,
        public: false,
        definer: true,
        config: ['search_path=""'],
      });
      expect(row.comment, row.fn).toMatch(/operators, service_role/);
    }
  });

  it.each(calls)(
    "refuses a signed-in user who is not an operator: $fn (42501, permission denied)",
    async (call) => {
      const error = await failure(asCaller(database.pool, "user", (client) => client.query(call.sql)));
      expect(error.code).toBe("42501");
      expect(error.message).toMatch(/^permission denied for function console_/);
    },
  );

  it.each(calls)(
    "refuses an operator's token without the operator role (hook not enabled): $fn (42501)",
    async (call) => {
      const error = await failure(
        asCaller(database.pool, "operatorWithoutHook", (client) => client.query(call.sql)),
      );
      expect(error.code).toBe("42501");
      expect(error.message).toMatch(/^permission denied for function console_/);
    },
  );

  it.each(calls)(
    "refuses the operator role without app_metadata saying so (second check): $fn (42501)",
    async (call) => {
      const error = await failure(
        asCaller(database.pool, "roleWithoutMetadata", (client) => client.query(call.sql)),
      );
      expect(error).toMatchObject({ code: "42501", message: "operator role required" });
    },
  );

  it.each(calls)("refuses anon: $fn (42501, permission denied)", async (call) => {
    const error = await failure(asCaller(database.pool, "anon", (client) => client.query(call.sql)));
    expect(error.code).toBe("42501");
    expect(error.message).toMatch(/^permission denied for function console_/);
  });

  it.each(calls)("lets an operator call $fn", async (call) => {
    await asCaller(database.pool, "operator", (client) => client.query(call.sql));
  });

  it.each(calls)("lets service_role call $fn", async (call) => {
    await asCaller(database.pool, "service_role", (client) => client.query(call.sql));
  });

  it("is_operator() wants the operator role and app_metadata.role from the JWT, nothing a user can write", async () => {
    const as = (caller: "operator" | "user" | "operatorWithoutHook" | "roleWithoutMetadata") =>
      asCaller(database.pool, caller, async (client) => {
        const { rows } = await client.query<{ yes: boolean }>("select public.is_operator() as yes");
        return rows[0]!.yes;
      });
    expect(await as("operator")).toBe(true);
    expect(await as("user")).toBe(false);
    expect(await as("operatorWithoutHook")).toBe(false);
    expect(await as("roleWithoutMetadata")).toBe(false);
  });

  it("has the operator role PostgREST's authenticator may switch to, with no login and no table grants", async () => {
    const { rows } = await database.pool.query<{ login: boolean; member: boolean; tables: number }>(
      `select r.rolcanlogin as login, pg_has_role('authenticator', 'operator', 'member') as member,
              (select count(*)::int from information_schema.role_table_grants g where g.grantee = 'operator') as tables
         from pg_roles r where r.rolname = 'operator'`,
    );
    expect(rows).toEqual([{ login: false, member: true, tables: 0 }]);
  });
});

describe("peeking and masking", () => {
  it("masks addresses, names and free text, and leaves the message unread", async () => {
    await clearQueues();
    await sendRaw(database.pool, "email_queue", {
      version: 1,
      idempotency_key: "mask-1",
      to: "anna.ivanova@example.com",
      template: "payment_failed",
      locale: "ru",
      timezone: "Europe/Moscow",
      priority: 0,
      variables: {
        user_name: "Анна Иванова",
        consultant_name: "Мария",
        description: "Консультация 25 ноября",
        failure_reason: "Недостаточно средств",
        notes: ["contact anna@example.com"],
        amount: 4500,
        payment_id: "pay-7782",
      },
    });
    const { rows } = await asCaller(database.pool, "operator", (client) =>
      client.query<{ read_ct: number; message: Record<string, unknown> }>(
        "select read_ct, message from public.console_peek_messages('email_queue')",
      ),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.read_ct).toBe(0);
    expect(rows[0]!.message).toEqual({
      version: 1,
      idempotency_key: "mask-1",
      to: "a***@e***",
      template: "payment_failed",
      locale: "ru",
      timezone: "Europe/Moscow",
      priority: 0,
      variables: {
        user_name: "А*** И***",
        consultant_name: "М***",
        description: "[hidden: 22 characters]",
        failure_reason: "[hidden: 20 characters]",
        notes: ["[hidden: 24 characters]"],
        amount: 4500,
        payment_id: "pay-7782",
      },
    });
    // Unread: still visible to the worker.
    const visible = await database.pool.query(
      "select 1 from pgmq.q_email_queue where vt <= now() and read_ct = 0",
    );
    expect(visible.rowCount).toBe(1);
  });

  it("names an unknown queue and a bad max_count (22023)", async () => {
    const unknown = await failure(
      database.pool.query("select * from public.console_peek_messages('emails')"),
    );
    expect(unknown).toMatchObject({
      code: "22023",
      message: expect.stringContaining('queue_name "emails" is not a queue'),
    });
    const tooMany = await failure(
      database.pool.query("select * from public.console_peek_messages('email_queue', 5000)"),
    );
    expect(tooMany).toMatchObject({
      code: "22023",
      message: "max_count must be between 1 and 1000 (got 5000)",
    });
  });
});

describe("a probe of every console function", () => {
  it("shows no address, name, signed link, meeting link or title in clear, in any queue, dead letter or delivery", async () => {
    await clearQueues();
    const address = "Vera.Petrova@example.org";
    const clear = [
      "vera.petrova",
      "example.org",
      "Петрова",
      "token=",
      "sig=",
      "storage/v1/object/sign",
      "meet.example.net",
      "Тревожность и сон",
    ];
    const variables = {
      user_name: "Вера Петрова",
      assessment_title: "Тревожность и сон",
      report_url: `https://project.supabase.co/storage/v1/object/sign/reports/u/a.pdf?token=${randomUUID()}`,
      meeting_url: "https://meet.example.net/room-8812",
      receipt_url: `https://app.balansity.ru/r/1?expires=9999999999&sig=${randomUUID()}`,
      assessment_id: randomUUID(),
    };
    const message = {
      version: 1,
      idempotency_key: `probe:${randomUUID()}`,
      to: address,
      template: "report_ready",
      locale: "ru",
      timezone: "Europe/Moscow",
      priority: 0,
      variables,
    };
    await sendRaw(database.pool, "email_queue", message);
    const queued = await sendRaw(database.pool, "email_queue", {
      ...message,
      idempotency_key: `probe:${randomUUID()}`,
    });
    await database.pool.query("select public.pgmq_dead_letter('email_queue', $1, 'smtp_rejected', $2, 5)", [
      queued,
      `550 <${address}> for ${variables.report_url}`,
    ]);
    await sendRaw(database.pool, "analytics_queue", {
      version: 1,
      event: "report_generated",
      entity_id: randomUUID(),
      user_id: randomUUID(),
      occurred_at: new Date().toISOString(),
      properties: {
        title: variables.assessment_title,
        link: variables.meeting_url,
        full_name: "Вера Петрова",
      },
    });
    await database.pool.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, error)
       values ($1, 1, 'report_ready', $2, 'failed', $3)`,
      [`probe:${randomUUID()}`, address, `550 <${address}> unknown`],
    );

    const reads = [
      ...calls.map((call) => call.sql),
      "select * from public.console_peek_messages('email_queue_dlq', 100)",
      "select * from public.console_peek_messages('analytics_queue', 100)",
      `select * from public.console_dead_letters('email_queue', 100, '${address}')`,
      `select * from public.console_email_deliveries('${address}', 100)`,
    ];
    const shown: string[] = [];
    for (const sql of reads) {
      const { rows } = await asCaller(database.pool, "operator", (client) => client.query(sql));
      shown.push(JSON.stringify(rows));
    }
    const everything = shown.join("\n");
    // The probe saw the data (masked), so a clean result is not an empty one.
    expect(everything).toContain("V***@e***");
    expect(everything).toContain("В*** П***");
    expect(everything).toContain("[hidden: link]");
    for (const text of clear) expect(everything.toLowerCase(), text).not.toContain(text.toLowerCase());
  });
});

describe("dead letters", () => {
  it("lists dead letters with reason and attempts, masked, and finds them by an exact address or the masked form only", async () => {
    await clearQueues();
    const { dlqId } = await deadLetterEmail("smtp_rejected");
    await deadLetterEmail("invalid_message", "john.smith@example.com");
    const search = async (text: string) =>
      (
        await asCaller(database.pool, "operator", (client) =>
          client.query("select * from public.console_dead_letters('email_queue', 100, $1)", [text]),
        )
      ).rows;
    const rows = await search("ANNA.ivanova@example.com");
    expect(rows).toHaveLength(1);
    expect((await search("a***@e***")).map((row) => row.msg_id)).toEqual([String(dlqId)]);
    // A part of an address finds nothing: it could be extended a character at a time.
    expect(await search("anna.ivanova")).toEqual([]);
    expect(await search("anna.ivanova@example.co")).toEqual([]);
    expect(await search("Иванова")).toEqual([]);
    expect(rows[0]).toMatchObject({
      msg_id: String(dlqId),
      error_code: "smtp_rejected",
      error_message: "550 5.1.1 <a***@e***>: mailbox unavailable",
      attempts: 5,
      payload: { to: "a***@e***", template: "report_ready", variables: { user_name: "А*** И***" } },
    });
    const dlq = await failure(
      database.pool.query("select * from public.console_dead_letters('email_queue_dlq')"),
    );
    expect(dlq.message).toContain('queue_name "email_queue_dlq" has no dead-letter queue');
  });

  it("retries one dead letter: the original message is back in its queue, parses with the worker's schema, and the DLQ no longer has it", async () => {
    await clearQueues();
    const { dlqId, original } = await deadLetterEmail("smtp_rejected");
    const other = await deadLetterEmail("smtp_rejected");
    const { rows } = await asCaller(
      database.pool,
      "operator",
      (client) =>
        client.query<{ moved: number }>(
          "select public.console_retry_dead_letters('email_queue', $1) as moved",
          [[dlqId]],
        ),
      true,
    );
    expect(rows[0]!.moved).toBe(1);
    const back = await messagesIn(database.pool, "email_queue");
    expect(back.map((row) => row.message)).toEqual([original]);
    expect(emailMessageSchema.parse(back[0]!.message)).toMatchObject({
      to: "anna.ivanova@example.com",
      template: "report_ready",
    });
    const left = await messagesIn(database.pool, "email_queue_dlq");
    expect(left.map((row) => row.msg_id)).toEqual([other.dlqId]);
    expect(deadLetterSchema.parse(left[0]!.message).error.code).toBe("smtp_rejected");
  });

  it("retries all dead letters with one error code and leaves the others", async () => {
    await clearQueues();
    for (let i = 0; i < 3; i++) await deadLetterEmail("smtp_rejected");
    const kept = await deadLetterEmail("invalid_message");
    const ids = await database.pool.query<{ id: string }>(
      "select * from public.console_dead_letter_ids('email_queue', 'smtp_rejected') as id",
    );
    expect(ids.rowCount).toBe(3);
    const { rows } = await database.pool.query<{ moved: number }>(
      "select public.console_retry_dead_letters('email_queue', null, 'smtp_rejected') as moved",
    );
    expect(rows[0]!.moved).toBe(3);
    expect(await messagesIn(database.pool, "email_queue")).toHaveLength(3);
    expect((await messagesIn(database.pool, "email_queue_dlq")).map((row) => row.msg_id)).toEqual([
      kept.dlqId,
    ]);
  });

  it("moves nothing when the send fails: dead letters and queue stay as they were", async () => {
    await clearQueues();
    const { dlqId } = await deadLetterEmail("smtp_rejected");
    // The queue's table refuses inserts (in this transaction only): the retry's send fails after its delete.
    const client = await database.pool.connect();
    try {
      await client.query("begin");
      await client.query(
        "create function public.t_refuse() returns trigger language plpgsql as $$ begin raise exception 'insert refused'; end $$",
      );
      await client.query(
        "create trigger t_refuse before insert on pgmq.q_email_queue for each row execute function public.t_refuse()",
      );
      await client.query("savepoint retry");
      const error = await failure(client.query("select public.console_retry_dead_letters('email_queue')"));
      expect(error.message).toBe("insert refused");
      await client.query("rollback to savepoint retry");
      const dlq = await client.query("select msg_id from pgmq.q_email_queue_dlq");
      expect(dlq.rows.map((row) => Number(row.msg_id))).toEqual([dlqId]);
    } finally {
      await client.query("rollback");
      client.release();
    }
  });

  it("discards by id and by error code into the dead-letter archive", async () => {
    await clearQueues();
    const first = await deadLetterEmail("smtp_rejected");
    await deadLetterEmail("smtp_rejected");
    await deadLetterEmail("invalid_message");
    const archivedBefore = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from pgmq.a_email_queue_dlq",
    );
    const one = await database.pool.query<{ n: number }>(
      "select public.console_discard_dead_letters('email_queue', $1) as n",
      [[first.dlqId]],
    );
    expect(one.rows[0]!.n).toBe(1);
    const byCode = await database.pool.query<{ n: number }>(
      "select public.console_discard_dead_letters('email_queue', null, 'invalid_message') as n",
    );
    expect(byCode.rows[0]!.n).toBe(1);
    const rest = await database.pool.query<{ n: number }>(
      "select public.console_discard_dead_letters('email_queue') as n",
    );
    expect(rest.rows[0]!.n).toBe(1);
    const again = await database.pool.query<{ n: number }>(
      "select public.console_discard_dead_letters('email_queue') as n",
    );
    expect(again.rows[0]!.n).toBe(0);
    expect(await messagesIn(database.pool, "email_queue_dlq")).toEqual([]);
    const archivedAfter = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from pgmq.a_email_queue_dlq",
    );
    expect(archivedAfter.rows[0]!.n - archivedBefore.rows[0]!.n).toBe(3);
  });
});

describe("queue metrics history", () => {
  it("samples every queue, counts what was processed between samples, and purges samples past the retention", async () => {
    await clearQueues();
    await database.pool.query("delete from automation.queue_metrics_history");
    const t0 = new Date(Date.now() - 3 * 60_000);
    const first = await database.pool.query<{ summary: { sampled: number; purged: number } }>(
      "select automation.sample_queue_metrics($1) as summary",
      [t0],
    );
    const queues = await database.pool.query("select 1 from pgmq.meta");
    expect(first.rows[0]!.summary).toEqual({ sampled: queues.rowCount, purged: 0 });

    // Three sent, two of them archived (processed): depth +1, processed 2, over two minutes.
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await sendRaw(database.pool, "email_queue", { n: i }));
    await database.pool.query("select pgmq.archive('email_queue', $1::bigint[])", [ids.slice(0, 2)]);
    // A sample older than the 7-day retention.
    await database.pool.query(
      `insert into automation.queue_metrics_history (queue_name, sampled_at, depth, total_messages)
       values ('email_queue', now() - interval '8 days', 0, 0)`,
    );
    const second = await database.pool.query<{ summary: { sampled: number; purged: number } }>(
      "select automation.sample_queue_metrics($1) as summary",
      [new Date(t0.getTime() + 2 * 60_000)],
    );
    expect(second.rows[0]!.summary.purged).toBe(1);

    const history = await asCaller(database.pool, "operator", (client) =>
      client.query<{ depth: string; processed_per_minute: string | null }>(
        "select depth, processed_per_minute from public.console_queue_history('email_queue', 1)",
      ),
    );
    expect(history.rows).toEqual([
      { depth: "0", processed_per_minute: null },
      { depth: "1", processed_per_minute: "1.00" },
    ]);
    const overview = await database.pool.query(
      "select depth, dlq_depth, processed_last_hour from public.console_queue_overview() where queue_name = 'email_queue'",
    );
    expect(overview.rows).toEqual([{ depth: "1", dlq_depth: "0", processed_last_hour: "2" }]);
  });

  it("is a scheduled job of automation.cron_jobs, every minute, runnable by service_role", async () => {
    const { rows } = await database.pool.query(
      "select schedule, command, enabled from automation.cron_jobs where name = 'sample-queue-metrics'",
    );
    expect(rows).toEqual([
      { schedule: "* * * * *", command: "select automation.sample_queue_metrics()", enabled: true },
    ]);
    await asCaller(database.pool, "service_role", (client) => client.query(rows[0].command));
    const refused = await failure(asCaller(database.pool, "user", (client) => client.query(rows[0].command)));
    expect(refused.code).toBe("42501");
  });
});

describe("cron, email, reports", () => {
  it("shows each job's last run and its failures in the last 24 hours (the worker's scheduler here)", async () => {
    await database.pool.query(
      `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
         ('purge-cron-history', 'failed', 'could not reach ops@example.com', now() - interval '2 hours', now() - interval '2 hours'),
         ('purge-cron-history', 'failed', 'boom', now() - interval '30 hours', now() - interval '30 hours'),
         ('purge-cron-history', 'succeeded', '{}', now() - interval '1 hour', now() - interval '1 hour')`,
    );
    const { rows } = await database.pool.query(
      "select jobname, active, source, last_status, failures_24h from public.console_cron_jobs() where jobname = 'purge-cron-history'",
    );
    expect(rows).toEqual([
      {
        jobname: "purge-cron-history",
        active: true,
        source: "worker",
        last_status: "succeeded",
        failures_24h: 1,
      },
    ]);
    const runs = await database.pool.query(
      "select status, message from public.console_cron_runs('purge-cron-history', 2)",
    );
    expect(runs.rows).toEqual([
      { status: "succeeded", message: "{}" },
      { status: "failed", message: "could not reach o***@e***" },
    ]);
    const unknown = await failure(database.pool.query("select * from public.console_cron_runs('nope')"));
    expect(unknown.code).toBe("22023");
  });

  it.each(emailTemplateNames)(
    "queues a test email of %s with the template's example variables",
    async (template) => {
      const { rows } = await database.pool.query<{ id: string }>(
        "select public.console_queue_test_email('ops@example.com', $1, 'en') as id",
        [template],
      );
      const sent = (await messagesIn(database.pool, "email_queue")).find(
        (row) => row.msg_id === Number(rows[0]!.id),
      );
      const message = emailMessageSchema.parse(sent?.message);
      expect(message).toMatchObject({ to: "ops@example.com", template, locale: "en", priority: 1 });
      // The examples as they are, but for report_ready's PDF attachment: a test email must not depend on
      // a stored report (the console sends the link-only variant, which the template also renders).
      const { attachment: _attachment, ...example } = emailTemplateExamples[template] as Record<
        string,
        unknown
      >;
      expect(message.variables).toEqual(example);
    },
  );

  it("refuses an unknown template, address or locale (22023)", async () => {
    const template = await failure(
      database.pool.query("select public.console_queue_test_email('a@example.com', 'hello')"),
    );
    expect(template).toMatchObject({
      code: "22023",
      message: expect.stringContaining('template "hello" is unknown'),
    });
    const address = await failure(
      database.pool.query("select public.console_queue_test_email('not-an-address', 'report_ready')"),
    );
    expect(address).toMatchObject({
      code: "22023",
      message: expect.stringContaining('"to" is not an email address'),
    });
    const locale = await failure(
      database.pool.query("select public.console_queue_test_email('a@example.com', 'report_ready', 'de')"),
    );
    expect(locale).toMatchObject({
      code: "22023",
      message: expect.stringContaining('locale "de" is unknown'),
    });
  });

  it("lists email deliveries with the recipient masked, found by the exact address or the masked form only", async () => {
    const key = `console:${randomUUID()}`;
    await database.pool.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, error)
       values ($1, 1, 'report_ready', 'Zoe.Deliveries@example.com', 'failed', '550 <zoe.deliveries@example.com> unknown')`,
      [key],
    );
    const search = async (text: string) =>
      (
        await database.pool.query(
          "select idempotency_key, recipient, status, resends, error from public.console_email_deliveries($1) where idempotency_key = $2",
          [text, key],
        )
      ).rows;
    const found = [
      {
        idempotency_key: key,
        recipient: "Z***@e***",
        status: "failed",
        resends: 0,
        error: "550 <z***@e***> unknown",
      },
    ];
    expect(await search("zoe.deliveries@EXAMPLE.com")).toEqual(found);
    expect(await search("z***@e***")).toEqual(found);
    expect(await search("zoe.deliv")).toEqual([]);
    expect(await search("zoe.deliveries@example.co")).toEqual([]);
  });

  it("lists reports and regenerates one as a new report job of its owner", async () => {
    const user = await createUser(database.pool);
    const assessment = await createAssessment(database.pool, user.id);
    const path = `reports/${user.id}/${randomUUID()}.pdf`;
    await database.pool.query(
      `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
       values ($1, $2, $3, 2048, repeat('a', 64), 'test')`,
      [assessment, user.id, path],
    );
    const listed = await asCaller(database.pool, "operator", (client) =>
      client.query("select assessment_id, user_id, storage_path, size_bytes from public.console_reports(5)"),
    );
    expect(listed.rows[0]).toEqual({
      assessment_id: assessment,
      user_id: user.id,
      storage_path: path,
      size_bytes: 2048,
    });

    const { rows } = await database.pool.query<{ id: string }>(
      "select public.console_regenerate_report($1) as id",
      [assessment],
    );
    const job = (await messagesIn(database.pool, "report_generation_queue")).find(
      (row) => row.msg_id === Number(rows[0]!.id),
    );
    expect(reportMessageSchema.parse(job?.message)).toMatchObject({
      assessment_id: assessment,
      user_id: user.id,
      requested_by: "service",
    });

    const missing = await failure(
      database.pool.query("select public.console_regenerate_report($1)", [randomUUID()]),
    );
    expect(missing.code).toBe("P0002");
    const running = await createAssessment(database.pool, user.id, "in_progress");
    const notDone = await failure(
      database.pool.query("select public.console_regenerate_report($1)", [running]),
    );
    expect(notDone.code).toBe("22023");
  });
});
