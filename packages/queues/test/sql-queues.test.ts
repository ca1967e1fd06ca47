import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateNames } from "@balansity/emails/catalog";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  analyticsEventNames,
  analyticsMessageSchema,
  emailMessageSchema,
  paymentActions,
  paymentMessageSchema,
  type QueueName,
  queueNames,
  reportMessageSchema,
  reportTypes,
} from "../src/catalog.ts";

// The queue_* helpers of supabase/migrations/031_setup_queues.sql: what they queue parses with the
// catalog's schemas, and every argument they refuse is refused with SQLSTATE 22023 and its name.

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

beforeEach(async () => {
  for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
});

async function messages(queue: QueueName): Promise<unknown[]> {
  const { rows } = await client.query<{ message: unknown }>(
    `select message from pgmq.${pg.escapeIdentifier(`q_${queue}`)} order by msg_id`,
  );
  return rows.map((row) => row.message);
}

async function messageById(queue: QueueName, msgId: string): Promise<unknown> {
  const { rows } = await client.query<{ message: unknown }>(
    `select message from pgmq.${pg.escapeIdentifier(`q_${queue}`)} where msg_id = $1`,
    [msgId],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.message;
}

/** Runs a call that returns one msg_id and gives the id. */
async function msgId(sql: string, values: unknown[] = []): Promise<string> {
  const { rows } = await client.query<{ id: string }>(`select ${sql} as id`, values);
  const id = rows[0]?.id;
  expect(id).toMatch(/^\d+$/);
  return id as string;
}

/** Runs a call that must fail and gives the error. */
async function refusal(sql: string, values: unknown[] = []): Promise<pg.DatabaseError> {
  try {
    await client.query(`select ${sql}`, values);
  } catch (error) {
    if (error instanceof pg.DatabaseError) return error;
    throw error;
  }
  throw new Error(`expected the database to refuse: select ${sql}`);
}

async function createUser(options: { email: string; locale?: string; timezone?: string }): Promise<string> {
  const id = randomUUID();
  await client.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
    id,
    options.email,
    { full_name: "Анна Иванова", locale: options.locale, timezone: options.timezone },
  ]);
  return id;
}

/** "a, b or c" and "one of a, b, c" lists in error messages, as an array. */
function listedNames(message: string): string[] {
  const list = /\(expected one of ([^)]*)\)/.exec(message)?.[1];
  if (list === undefined) throw new Error(`no "(expected one of ...)" list in: ${message}`);
  return list.split(", ");
}

describe("queue_email_task", () => {
  it("queues a message with every argument given that parses with emailMessageSchema", async () => {
    const userId = randomUUID();
    const id = await msgId(
      `public.queue_email_task("to" => $1, subject => $2, template => $3, variables => $4, priority => 1,
         locale => 'en', timezone => 'Europe/London', idempotency_key => $5, user_id => $6)`,
      [
        "anna@example.com",
        "Ваш отчёт готов",
        "report_ready",
        { assessment_id: "a-1", report_url: "https://app.example.com/r/1" },
        "report_ready:a-1",
        userId,
      ],
    );
    const message = emailMessageSchema.parse(await messageById("email_queue", id));
    expect(message).toEqual({
      version: 1,
      idempotency_key: "report_ready:a-1",
      to: "anna@example.com",
      template: "report_ready",
      subject: "Ваш отчёт готов",
      locale: "en",
      timezone: "Europe/London",
      variables: { assessment_id: "a-1", report_url: "https://app.example.com/r/1" },
      priority: 1,
      user_id: userId,
    });
  });

  it("fills defaults: a random idempotency key, priority 0, ru and Europe/Moscow without a profile", async () => {
    const id = await msgId(`public.queue_email_task($1, null, 'checkup_completed')`, ["nobody@example.com"]);
    const raw = await messageById("email_queue", id);
    const message = emailMessageSchema.parse(raw);
    expect(message).toMatchObject({
      locale: "ru",
      timezone: "Europe/Moscow",
      priority: 0,
      variables: {},
      subject: null,
      user_id: null,
    });
    // The SQL writes the defaults itself; the schema's defaults are not what made them appear.
    expect(raw).toMatchObject({ locale: "ru", timezone: "Europe/Moscow", variables: {} });
    expect(message.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    const again = emailMessageSchema.parse(
      await messageById(
        "email_queue",
        await msgId(`public.queue_email_task($1, null, 'checkup_completed')`, ["nobody@example.com"]),
      ),
    );
    expect(again.idempotency_key).not.toBe(message.idempotency_key);
  });

  it("takes locale and time zone from the recipient's profile, by user_id or else by address", async () => {
    const userId = await createUser({
      email: "John.Smith@example.com",
      locale: "en",
      timezone: "America/New_York",
    });
    const byUser = await msgId(`public.queue_email_task($1, null, 'checkup_completed', user_id => $2)`, [
      "someone.else@example.com",
      userId,
    ]);
    expect(emailMessageSchema.parse(await messageById("email_queue", byUser))).toMatchObject({
      to: "someone.else@example.com",
      locale: "en",
      timezone: "America/New_York",
      user_id: userId,
    });

    const byAddress = await msgId(`public.queue_email_task($1, null, 'checkup_completed')`, [
      "john.smith@example.com",
    ]);
    expect(emailMessageSchema.parse(await messageById("email_queue", byAddress))).toMatchObject({
      locale: "en",
      timezone: "America/New_York",
    });

    // What the caller gives wins over the profile, one field at a time.
    const mixed = await msgId(`public.queue_email_task($1, null, 'checkup_completed', locale => 'ru')`, [
      "john.smith@example.com",
    ]);
    expect(emailMessageSchema.parse(await messageById("email_queue", mixed))).toMatchObject({
      locale: "ru",
      timezone: "America/New_York",
    });
  });

  it("keeps the locale or time zone the caller gave when no profile matches the recipient", async () => {
    const english = await msgId(`public.queue_email_task($1, null, 'checkup_completed', locale => 'en')`, [
      "nobody-with-a-profile@example.com",
    ]);
    expect(emailMessageSchema.parse(await messageById("email_queue", english))).toMatchObject({
      locale: "en",
      timezone: "Europe/Moscow",
    });
    const zoned = await msgId(
      `public.queue_email_task($1, null, 'checkup_completed', timezone => 'Asia/Yekaterinburg')`,
      ["nobody-with-a-profile@example.com"],
    );
    expect(emailMessageSchema.parse(await messageById("email_queue", zoned))).toMatchObject({
      locale: "ru",
      timezone: "Asia/Yekaterinburg",
    });
  });

  it("accepts every template of the @balansity/emails catalog and lists exactly those when refusing", async () => {
    for (const template of emailTemplateNames) {
      const id = await msgId(`public.queue_email_task('anna@example.com', null, $1)`, [template]);
      expect(emailMessageSchema.parse(await messageById("email_queue", id)).template).toBe(template);
    }
    const error = await refusal(`public.queue_email_task('anna@example.com', null, 'newsletter')`);
    expect(listedNames(error.message)).toEqual([...emailTemplateNames]);
  });

  it("accepts priority 0 and 1 and the worker's high-priority read finds only the 1s", async () => {
    await msgId(`public.queue_email_task('a@example.com', null, 'report_ready', priority => 0)`);
    const high = await msgId(`public.queue_email_task('b@example.com', null, 'report_ready', priority => 1)`);
    const { rows } = await client.query<{ msg_id: string }>(
      `select msg_id from pgmq.read('email_queue', 30, 10, '{"priority": 1}')`,
    );
    expect(rows.map((row) => row.msg_id)).toEqual([high]);
  });

  it("refuses priority 2 and queues nothing", async () => {
    const error = await refusal(
      `public.queue_email_task('a@example.com', null, 'report_ready', priority => 2)`,
    );
    expect(error.code).toBe("22023");
    expect(error.message).toBe("queue_email_task: priority 2 is invalid (expected 0 normal or 1 high)");
    expect(await messages("email_queue")).toEqual([]);
  });

  it.each([
    ['"to"', `public.queue_email_task(null, null, 'report_ready')`],
    ['"to"', `public.queue_email_task('not an address', null, 'report_ready')`],
    ['"to"', `public.queue_email_task('anna@localhost', null, 'report_ready')`],
    ['"to"', `public.queue_email_task(repeat('a', 310) || '@example.com', null, 'report_ready')`],
    ["template", `public.queue_email_task('a@example.com', null, null)`],
    ["template", `public.queue_email_task('a@example.com', null, 'newsletter')`],
    ["subject", `public.queue_email_task('a@example.com', repeat('x', 301), 'report_ready')`],
    ["variables", `public.queue_email_task('a@example.com', null, 'report_ready', '[1, 2]')`],
    ["variables", `public.queue_email_task('a@example.com', null, 'report_ready', null)`],
    ["priority", `public.queue_email_task('a@example.com', null, 'report_ready', priority => -1)`],
    ["priority", `public.queue_email_task('a@example.com', null, 'report_ready', priority => null)`],
    ["locale", `public.queue_email_task('a@example.com', null, 'report_ready', locale => 'de')`],
    ["timezone", `public.queue_email_task('a@example.com', null, 'report_ready', timezone => 'Mars/Base')`],
    ["timezone", `public.queue_email_task('a@example.com', null, 'report_ready', timezone => 'MSK')`],
    [
      "idempotency_key",
      `public.queue_email_task('a@example.com', null, 'report_ready', idempotency_key => '')`,
    ],
  ])("refuses a bad %s (%s) with SQLSTATE 22023", async (argument, call) => {
    const error = await refusal(call);
    expect(error.code).toBe("22023");
    expect(error.message.startsWith("queue_email_task: ")).toBe(true);
    expect(error.message).toContain(argument);
    expect(await messages("email_queue")).toEqual([]);
  });

  it("names the unknown template as the contract shows", async () => {
    const error = await refusal(`public.queue_email_task('a@example.com', null, 'x')`);
    expect(error.message).toMatch(/^queue_email_task: template "x" is unknown \(expected one of /);
    const address = await refusal(`public.queue_email_task('a@', null, 'report_ready')`);
    expect(address.message).toBe('queue_email_task: "to" is not an email address');
  });
});

describe("queue_report_generation", () => {
  it("queues a pdf job requested by the service, with a random key by default", async () => {
    const [assessmentId, userId] = [randomUUID(), randomUUID()];
    const id = await msgId("public.queue_report_generation($1, $2)", [assessmentId, userId]);
    const message = reportMessageSchema.parse(await messageById("report_generation_queue", id));
    expect(message).toMatchObject({
      version: 1,
      assessment_id: assessmentId,
      user_id: userId,
      report_type: "pdf",
      requested_by: "service",
    });
    expect(message.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps the given key and requester", async () => {
    const [assessmentId, userId] = [randomUUID(), randomUUID()];
    for (const reportType of reportTypes) {
      const id = await msgId(
        "public.queue_report_generation($1, $2, $3, idempotency_key => $4, requested_by => 'user')",
        [assessmentId, userId, reportType, `report:${assessmentId}:${reportType}`],
      );
      expect(reportMessageSchema.parse(await messageById("report_generation_queue", id))).toMatchObject({
        idempotency_key: `report:${assessmentId}:${reportType}`,
        requested_by: "user",
        report_type: reportType,
      });
    }
  });

  it.each([
    ["assessment_id", "public.queue_report_generation(null, gen_random_uuid())"],
    ["user_id", "public.queue_report_generation(gen_random_uuid(), null)"],
    ["report_type", "public.queue_report_generation(gen_random_uuid(), gen_random_uuid(), 'docx')"],
    ["report_type", "public.queue_report_generation(gen_random_uuid(), gen_random_uuid(), null)"],
    [
      "requested_by",
      "public.queue_report_generation(gen_random_uuid(), gen_random_uuid(), requested_by => 'robot')",
    ],
    [
      "idempotency_key",
      "public.queue_report_generation(gen_random_uuid(), gen_random_uuid(), idempotency_key => '')",
    ],
  ])("refuses a bad %s (%s) with SQLSTATE 22023", async (argument, call) => {
    const error = await refusal(call);
    expect(error.code).toBe("22023");
    expect(error.message.startsWith("queue_report_generation: ")).toBe(true);
    expect(error.message).toContain(argument);
    expect(await messages("report_generation_queue")).toEqual([]);
  });
});

describe("queue_payment_processing", () => {
  it("queues every action of the catalog", async () => {
    const paymentId = randomUUID();
    for (const action of paymentActions) {
      const id = await msgId("public.queue_payment_processing($1, $2)", [paymentId, action]);
      const message = paymentMessageSchema.parse(await messageById("payment_processing_queue", id));
      expect(message).toMatchObject({ version: 1, payment_id: paymentId, action });
      expect(message.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    }
    const keyed = await msgId("public.queue_payment_processing($1, 'verify', $2)", [
      paymentId,
      `verify:${paymentId}`,
    ]);
    expect(paymentMessageSchema.parse(await messageById("payment_processing_queue", keyed))).toMatchObject({
      idempotency_key: `verify:${paymentId}`,
    });
  });

  it.each([
    ["payment_id", "public.queue_payment_processing(null, 'verify')"],
    ["action", "public.queue_payment_processing(gen_random_uuid(), null)"],
    ["action", "public.queue_payment_processing(gen_random_uuid(), 'capture')"],
    ["idempotency_key", "public.queue_payment_processing(gen_random_uuid(), 'verify', repeat('k', 301))"],
  ])("refuses a bad %s (%s) with SQLSTATE 22023", async (argument, call) => {
    const error = await refusal(call);
    expect(error.code).toBe("22023");
    expect(error.message.startsWith("queue_payment_processing: ")).toBe(true);
    expect(error.message).toContain(argument);
    expect(await messages("payment_processing_queue")).toEqual([]);
  });

  it("names the unknown action as the contract shows", async () => {
    const error = await refusal("public.queue_payment_processing(gen_random_uuid(), 'x')");
    expect(error.message).toMatch(/^queue_payment_processing: action "x" is unknown/);
  });
});

describe("track_event", () => {
  it("queues every event of the catalog and lists exactly those when refusing", async () => {
    for (const event of analyticsEventNames) {
      const id = await msgId("public.track_event($1)", [event]);
      const message = analyticsMessageSchema.parse(await messageById("analytics_queue", id));
      expect(message).toMatchObject({ version: 1, event, entity_id: null, user_id: null, properties: {} });
    }
    const error = await refusal("public.track_event('page_view')");
    expect(listedNames(error.message)).toEqual([...analyticsEventNames]);
  });

  it("keeps entity, user, properties, the instant and the key", async () => {
    const userId = randomUUID();
    const id = await msgId("public.track_event($1, $2, $3, $4, $5, $6)", [
      "report_generated",
      "assessment-42",
      userId,
      { pages: 3, kind: "wellbeing" },
      "2026-11-25T09:00:00.5+03:00",
      "report_generated:assessment-42",
    ]);
    const message = analyticsMessageSchema.parse(await messageById("analytics_queue", id));
    expect(message).toMatchObject({
      entity_id: "assessment-42",
      user_id: userId,
      properties: { pages: 3, kind: "wellbeing" },
      idempotency_key: "report_generated:assessment-42",
    });
    expect(Date.parse(message.occurred_at)).toBe(Date.parse("2026-11-25T06:00:00.5Z"));
  });

  it("writes occurred_at with the session's offset, which still parses", async () => {
    await client.query("set timezone = 'Asia/Kolkata'");
    try {
      const id = await msgId("public.track_event('email_sent', occurred_at => '2026-01-01T00:00:00Z')");
      const message = analyticsMessageSchema.parse(await messageById("analytics_queue", id));
      expect(message.occurred_at).toBe("2026-01-01T05:30:00+05:30");
    } finally {
      await client.query("reset timezone");
    }
  });

  it.each([
    ["event", "public.track_event(null)"],
    ["event", "public.track_event('page_view')"],
    ["entity_id", "public.track_event('email_sent', '')"],
    ["entity_id", "public.track_event('email_sent', repeat('e', 201))"],
    ["properties", `public.track_event('email_sent', properties => '"text"')`],
    ["properties", "public.track_event('email_sent', properties => null)"],
    ["occurred_at", "public.track_event('email_sent', occurred_at => null)"],
    ["occurred_at", "public.track_event('email_sent', occurred_at => 'infinity')"],
    ["idempotency_key", "public.track_event('email_sent', idempotency_key => '')"],
  ])("refuses a bad %s (%s) with SQLSTATE 22023", async (argument, call) => {
    const error = await refusal(call);
    expect(error.code).toBe("22023");
    expect(error.message.startsWith("track_event: ")).toBe(true);
    expect(error.message).toContain(argument);
    expect(await messages("analytics_queue")).toEqual([]);
  });
});

describe("queues", () => {
  it("exist with their dead-letter queues", async () => {
    const { rows } = await client.query<{ queue_name: string }>(
      "select queue_name from pgmq.list_queues() order by queue_name",
    );
    const expected = queueNames.flatMap((queue) => [queue, `${queue}_dlq`]).sort();
    expect(rows.map((row) => row.queue_name).filter((name) => expected.includes(name))).toEqual(expected);
  });

  it("every helper is security definer with an empty search_path and a comment", async () => {
    const { rows } = await client.query<{
      name: string;
      definer: boolean;
      config: string[];
      comment: string;
    }>(
      `select p.proname as name, p.prosecdef as definer, p.proconfig as config,
              coalesce(obj_description(p.oid, 'pg_proc'), '') as comment
       from pg_proc p
       where p.pronamespace = 'public'::regnamespace
         and p.proname in ('queue_email_task', 'queue_report_generation', 'queue_payment_processing', 'track_event')
       order by p.proname`,
    );
    expect(rows.map((row) => row.name)).toEqual([
      "queue_email_task",
      "queue_payment_processing",
      "queue_report_generation",
      "track_event",
    ]);
    for (const row of rows) {
      expect(row.definer).toBe(true);
      expect(row.config).toEqual(['search_path=""']);
      expect(row.comment).toContain("service_role");
    }
  });
});
