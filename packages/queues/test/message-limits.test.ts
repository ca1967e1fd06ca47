// Every queued message is bounded (supabase/migrations/039_security_limits.sql, queueLimits of
// @balansity/queues): sizes, delays, visibility timeouts and addresses, each refused with an error
// naming the argument, through the API (supabase-js → the PostgREST stand-in) and in SQL.
import { randomUUID } from "node:crypto";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailMessageSchema } from "../src/catalog.ts";
import { checkEmailTask } from "../src/queue-email-task.ts";
import { queueLimits } from "../src/queue-limits.ts";
import { openQueueDatabase, type QueueDatabase } from "./support/queue-database.ts";

let database: QueueDatabase;
let api: PostgrestRpc;
let service: SupabaseClient;

type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;

/** rpc() never opens a socket; this refuses to, so a test that did would fail loudly. */
class NoWebSocket {
  constructor() {
    throw new Error("these tests use rpc() only: no realtime connection");
  }
}

beforeAll(async () => {
  database = await openQueueDatabase();
  api = await startPostgrestRpc({ databaseUrl: database.db.url, jwtSecret: randomJwtSecret() });
  service = createClient(api.url, api.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as unknown as RealtimeTransport },
  });
});

afterAll(async () => {
  await api?.stop();
  await database?.close();
});

const twoMegabytes = "x".repeat(2 * 1024 * 1024);

/** A JSON object whose text, as PostgreSQL writes jsonb (`{"pad": "…"}`), is exactly `bytes` long. */
function objectOfBytes(bytes: number): Record<string, unknown> {
  return { pad: "y".repeat(bytes - '{"pad": ""}'.length) };
}

/** Runs `sql` as service_role (a server on the node-postgres transport), in a transaction rolled back. */
async function asServiceRole(sql: string, values: unknown[]) {
  const client = await database.pool.connect();
  try {
    await client.query("begin");
    await client.query("set local role service_role");
    return await client.query(sql, values);
  } finally {
    await client.query("rollback");
    client.release();
  }
}

describe("a 2 MB message", () => {
  it("is refused by pgmq_send, naming the message and the limit", async () => {
    await expect(
      asServiceRole("select public.pgmq_send('email_queue', $1::jsonb)", [
        JSON.stringify({ payload: twoMegabytes }),
      ]),
    ).rejects.toMatchObject({
      code: "22023",
      message: expect.stringMatching(
        /^pgmq_send: message is \d+ bytes of JSON, more than the limit of 262144$/,
      ),
    });
  });

  it("is refused as the variables of queue_email_task", async () => {
    await expect(
      asServiceRole(
        "select public.queue_email_task(\"to\" => 'anna@example.com', subject => null, template => 'report_ready', variables => $1::jsonb)",
        [JSON.stringify({ assessment_id: randomUUID(), report_url: twoMegabytes })],
      ),
    ).rejects.toMatchObject({
      code: "22023",
      message: expect.stringMatching(
        /^queue_email_task: variables is \d+ bytes of JSON, more than the limit of 65536$/,
      ),
    });
  });

  it("is refused as the properties of track_event", async () => {
    await expect(
      asServiceRole("select public.track_event(event => 'email_sent', properties => $1::jsonb)", [
        JSON.stringify({ note: twoMegabytes }),
      ]),
    ).rejects.toMatchObject({
      code: "22023",
      message: expect.stringMatching(
        /^track_event: properties is \d+ bytes of JSON, more than the limit of 65536$/,
      ),
    });
  });

  // Through the API the PostgREST stand-in refuses bodies over 1 MiB itself (413); a message
  // between the two limits reaches pgmq_send and is refused there.
  it("of 300 KB through the API is refused by pgmq_send (22023, HTTP 400)", async () => {
    const { error, status } = await service.rpc("pgmq_send", {
      queue_name: "email_queue",
      message: { payload: "x".repeat(300 * 1024) },
    });
    expect(status).toBe(400);
    expect(error?.code).toBe("22023");
    expect(error?.message).toMatch(
      /^pgmq_send: message is \d+ bytes of JSON, more than the limit of 262144$/,
    );
  });

  it("is refused by every queue table, whoever sends it (pgmq.send directly)", async () => {
    for (const queue of [
      "email_queue",
      "report_generation_queue",
      "payment_processing_queue",
      "analytics_queue",
    ]) {
      await expect(
        database.pool.query("select pgmq.send($1, $2::jsonb)", [
          queue,
          JSON.stringify({ payload: twoMegabytes }),
        ]),
      ).rejects.toMatchObject({ code: "23514", constraint: `q_${queue}_message_size_check` });
    }
  });

  it("is refused by the TypeScript producer before any request, naming variables", () => {
    const issues = checkEmailTask({
      to: "anna@example.com",
      template: "report_ready",
      variables: { assessment_id: randomUUID(), report_url: `https://example.com/${twoMegabytes}` },
    });
    expect(issues).toContainEqual({ path: "variables", message: "must be at most 65536 bytes as JSON" });
  });
});

describe("the size limits agree with queueLimits to the byte", () => {
  it("pgmq_send takes a message of exactly maxMessageBytes and refuses one byte more", async () => {
    const exact = objectOfBytes(queueLimits.maxMessageBytes);
    const { rows } = await database.pool.query<{ bytes: number }>(
      "select octet_length($1::jsonb::text) as bytes",
      [JSON.stringify(exact)],
    );
    expect(rows[0]?.bytes).toBe(queueLimits.maxMessageBytes);
    expect(
      (await service.rpc("pgmq_send", { queue_name: "analytics_queue", message: exact })).error,
    ).toBeNull();
    const over = objectOfBytes(queueLimits.maxMessageBytes + 1);
    expect(
      (await service.rpc("pgmq_send", { queue_name: "analytics_queue", message: over })).error?.code,
    ).toBe("22023");
  });

  it("queue_email_task takes variables of exactly maxPayloadBytes and refuses one byte more", async () => {
    const call = (variables: Record<string, unknown>) =>
      service.rpc("queue_email_task", {
        to: "anna@example.com",
        subject: null,
        template: "report_ready",
        variables,
      });
    expect((await call(objectOfBytes(queueLimits.maxPayloadBytes))).error).toBeNull();
    expect((await call(objectOfBytes(queueLimits.maxPayloadBytes + 1))).error?.code).toBe("22023");
  });
});

describe("delays and visibility timeouts", () => {
  it("pgmq_send takes a delay of a week and refuses a longer one, naming delay", async () => {
    const send = (delay: number) =>
      service.rpc("pgmq_send", { queue_name: "analytics_queue", message: {}, delay });
    expect((await send(queueLimits.maxDelaySeconds)).error).toBeNull();
    const { error } = await send(2 ** 31 - 1);
    expect(error).toMatchObject({
      code: "22023",
      message: "pgmq_send: delay must be at most 604800 seconds (a week) (got 2147483647)",
    });
  });

  it("pgmq_read refuses a visibility timeout longer than a week, naming vt", async () => {
    const read = (vt: number) => service.rpc("pgmq_read", { queue_name: "analytics_queue", vt, qty: 1 });
    expect((await read(queueLimits.maxVisibilityTimeoutSeconds)).error).toBeNull();
    const { error } = await read(queueLimits.maxVisibilityTimeoutSeconds + 1);
    expect(error).toMatchObject({
      code: "22023",
      message: "pgmq_read: vt must be at most 604800 seconds (a week) (got 604801)",
    });
  });
});

describe("email addresses: RFC 5321 lengths, the same in SQL and in the message schema", () => {
  const domainOf = (length: number) => `${"d".repeat(length - 4)}.com`;
  const cases = [
    { address: `${"a".repeat(64)}@example.com`, accepted: true },
    { address: `${"a".repeat(65)}@example.com`, accepted: false },
    { address: `${"a".repeat(310)}@example.com`, accepted: false },
    // 254 in all: 64 + "@" + a 189-character domain (labels of at most 63: several labels).
    { address: `${"a".repeat(64)}@${"b".repeat(60)}.${"c".repeat(60)}.${domainOf(67)}`, accepted: true },
    { address: `${"a".repeat(64)}@${"b".repeat(60)}.${"c".repeat(60)}.${domainOf(68)}`, accepted: false },
  ];

  it.each(cases)("$accepted for an address of $address.length characters", async ({ address, accepted }) => {
    const { rows } = await database.pool.query<{ ok: boolean }>("select public.is_email_address($1) as ok", [
      address,
    ]);
    expect(rows[0]?.ok).toBe(accepted);
    const message = {
      version: 1,
      idempotency_key: "k",
      to: address,
      template: "report_ready",
      priority: 0,
    };
    expect(emailMessageSchema.safeParse(message).success).toBe(accepted);
  });

  it("queue_email_task refuses a 310-character local part", async () => {
    const { error } = await service.rpc("queue_email_task", {
      to: `${"a".repeat(310)}@example.com`,
      subject: null,
      template: "report_ready",
      variables: {},
    });
    expect(error).toMatchObject({ code: "22023", message: 'queue_email_task: "to" is not an email address' });
  });
});
