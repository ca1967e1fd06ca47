import { randomUUID } from "node:crypto";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  emailMessageSchema,
  NotCompletedError,
  NotOwnerError,
  NotSignedInError,
  QueueRpcError,
  queueEmailTask,
  RateLimitedError,
  reportMessageSchema,
  requestAssessmentReport,
} from "../src/index.ts";
import { supabaseTransport } from "../src/supabase/index.ts";
import {
  createAssessment,
  createUser,
  messagesIn,
  messagesWithKey,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

// End to end: supabase-js → HTTP → a PostgREST stand-in → PostgreSQL with the real roles, grants,
// JWT claims and auth.uid(). The JWT secret is made for this run only.

let database: QueueDatabase;
let api: PostgrestRpc;

beforeAll(async () => {
  database = await openQueueDatabase();
  api = await startPostgrestRpc({ databaseUrl: database.db.url, jwtSecret: randomJwtSecret() });
});

afterAll(async () => {
  await api?.stop();
  await database?.close();
});

/**
 * supabase-js makes a realtime client up front and, on Node 20, wants a WebSocket class for it.
 * rpc() never opens a socket; this one refuses to, so a test that did would fail loudly.
 */
type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;

class NoWebSocket {
  constructor() {
    throw new Error("these tests use rpc() only: no realtime connection");
  }
}

const clientOptions = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: NoWebSocket as unknown as RealtimeTransport },
} satisfies SupabaseClientOptions<"public">;

/** A server's client: the service-role key. */
function serviceClient(): SupabaseClient {
  return createClient(api.url, api.serviceRoleKey, clientOptions);
}

/** A browser without a session: the anon key only. */
function anonClient(): SupabaseClient {
  return createClient(api.url, api.anonKey, clientOptions);
}

/** A browser with a signed-in user: the anon key and the user's access token. */
function userClient(userId: string): SupabaseClient {
  const accessToken = api.signJwt({
    role: "authenticated",
    sub: userId,
    aud: "authenticated",
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  return createClient(api.url, api.anonKey, {
    ...clientOptions,
    global: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
}

const emailInput = (key: string) =>
  ({
    to: "anna@example.com",
    template: "report_ready",
    variables: { assessment_id: randomUUID(), report_url: "https://app.balansity.ru/reports/1" },
    idempotency_key: key,
  }) as const;

/** The error `promise` rejects with, checked to be a `type`. */
async function failure<T>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

async function rpcError(promise: Promise<unknown>): Promise<QueueRpcError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(QueueRpcError);
  return error as QueueRpcError;
}

describe("service_role (servers, Edge Functions)", () => {
  it("queues an email with queueEmailTask", async () => {
    const key = `service:${randomUUID()}`;
    const { msgId } = await queueEmailTask(supabaseTransport(serviceClient()), emailInput(key));
    const [row] = await messagesWithKey(database.pool, "email_queue", key);
    expect(row?.msg_id).toBe(msgId);
    expect(emailMessageSchema.parse(row?.message).to).toBe("anna@example.com");
  });

  it("reads and archives with pgmq_read / pgmq_archive, as the Edge Function of the seed does", async () => {
    const service = serviceClient();
    const { msgId } = await queueEmailTask(supabaseTransport(service), emailInput(`edge:${randomUUID()}`));

    const read = await service.rpc("pgmq_read", { queue_name: "email_queue", vt: 30, qty: 100 });
    expect(read.error).toBeNull();
    expect(Array.isArray(read.data)).toBe(true);
    const task = (read.data as { msg_id: number; read_ct: number; message: unknown }[]).find(
      (record) => record.msg_id === msgId,
    );
    expect(task?.read_ct).toBe(1);
    expect(emailMessageSchema.safeParse(task?.message).success).toBe(true);

    const archived = await service.rpc("pgmq_archive", { queue_name: "email_queue", msg_id: msgId });
    expect(archived).toMatchObject({ data: true, error: null, status: 200 });
    const metrics = await service.rpc("pgmq_metrics", { queue_name: "email_queue" });
    expect(metrics.data).toMatchObject({ queue_name: "email_queue" });
  });

  it("names an unknown queue (22023, HTTP 400)", async () => {
    const { error, status } = await serviceClient().rpc("pgmq_read", { queue_name: "emails" });
    expect(status).toBe(400);
    expect(error).toMatchObject({
      code: "22023",
      message: expect.stringContaining('queue_name "emails" is not a queue'),
    });
  });
});

describe("the browser cannot address an email or read a queue", () => {
  it("anon gets permission denied on queue_email_task (42501, HTTP 401) and nothing is queued", async () => {
    const key = `anon:${randomUUID()}`;
    const error = await rpcError(queueEmailTask(supabaseTransport(anonClient()), emailInput(key)));
    expect(error).toMatchObject({ sqlState: "42501", status: 401, reason: "permission_denied" });
    expect(error.message).toMatch(/permission denied for function queue_email_task/);
    expect(await messagesWithKey(database.pool, "email_queue", key)).toEqual([]);
  });

  it("an authenticated user gets permission denied on queue_email_task (42501, HTTP 403)", async () => {
    const user = await createUser(database.pool);
    const key = `user:${randomUUID()}`;
    const error = await rpcError(queueEmailTask(supabaseTransport(userClient(user.id)), emailInput(key)));
    expect(error).toMatchObject({ sqlState: "42501", status: 403, reason: "permission_denied" });
    expect(await messagesWithKey(database.pool, "email_queue", key)).toEqual([]);
  });

  it.each(["anon", "authenticated"] as const)(
    "%s gets permission denied on pgmq_read and pgmq_send",
    async (role) => {
      const user = await createUser(database.pool);
      const client = role === "anon" ? anonClient() : userClient(user.id);
      const before = await messagesIn(database.pool, "email_queue");

      const read = await client.rpc("pgmq_read", { queue_name: "email_queue", vt: 30, qty: 10 });
      expect(read.error).toMatchObject({
        code: "42501",
        message: "permission denied for function pgmq_read",
      });
      expect(read.status).toBe(role === "anon" ? 401 : 403);
      const sent = await client.rpc("pgmq_send", {
        queue_name: "email_queue",
        message: { to: "x@example.com" },
      });
      expect(sent.error?.code).toBe("42501");

      // Nothing was read (read_ct unchanged) and nothing was sent.
      expect(await messagesIn(database.pool, "email_queue")).toEqual(before);
    },
  );
});

describe("request_assessment_report (the browser's one queue RPC)", () => {
  it("queues a report of the signed-in owner's completed checkup", async () => {
    const owner = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id);

    const { msgId } = await requestAssessmentReport(supabaseTransport(userClient(owner.id)), assessmentId);

    const row = (await messagesIn(database.pool, "report_generation_queue")).find(
      (message) => message.msg_id === msgId,
    );
    const message = reportMessageSchema.parse(row?.message);
    expect(message).toMatchObject({
      assessment_id: assessmentId,
      user_id: owner.id,
      report_type: "pdf",
      requested_by: "user",
    });
    // A key per request: each request is a new report (and a new email).
    expect(message.idempotency_key).toMatch(/^report_requested:[0-9a-f-]{36}$/);
  });

  it("queues a new report per request up to the per-user limit (3 a day), then refuses with RateLimitedError", async () => {
    const owner = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id);
    const transport = supabaseTransport(userClient(owner.id));

    const before = Date.now();
    const accepted = await Promise.all([1, 2, 3].map(() => requestAssessmentReport(transport, assessmentId)));
    // As if the three were made 3 hours ago: the next is possible 21 hours from now, not 24.
    await database.pool.query(
      "update automation.report_requests set requested_at = requested_at - interval '3 hours' where user_id = $1",
      [owner.id],
    );
    const refused = await failure(requestAssessmentReport(transport, assessmentId), RateLimitedError);
    const after = Date.now();

    expect(new Set(accepted.map((result) => result.msgId)).size).toBe(3);
    expect(refused.code).toBe("rate_limited");
    // The first of the three leaves the 1-day window then: that time, read from the database's answer.
    const window = 86_400_000 - 3 * 3_600_000;
    expect(refused.retryAt.getTime()).toBeGreaterThanOrEqual(before + window - 1000);
    expect(refused.retryAt.getTime()).toBeLessThanOrEqual(after + window);
    expect(refused.retryAfterSeconds(new Date(refused.retryAt.getTime() - 90_500))).toBe(91);
    const cause = refused.cause as QueueRpcError;
    expect(cause).toBeInstanceOf(QueueRpcError);
    expect(cause).toMatchObject({ sqlState: "PT429", status: 429 });
    expect(cause.message).toMatch(/at most 3 report requests per 1 day/);
    const queued = (await messagesIn(database.pool, "report_generation_queue")).filter(
      (row) => row.message.assessment_id === assessmentId && row.message.requested_by === "user",
    );
    expect(queued).toHaveLength(3);
  });

  it("answers someone else's checkup and a missing one alike: NotOwnerError (P0002)", async () => {
    const owner = await createUser(database.pool);
    const stranger = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id);
    const transport = supabaseTransport(userClient(stranger.id));

    const notTheirs = await failure(requestAssessmentReport(transport, assessmentId), NotOwnerError);
    const missingId = randomUUID();
    const missing = await failure(requestAssessmentReport(transport, missingId), NotOwnerError);

    expect(notTheirs).toMatchObject({ code: "not_owner", id: assessmentId });
    expect(missing).toMatchObject({ code: "not_owner", id: missingId });
    for (const error of [notTheirs, missing]) {
      expect(error.cause).toMatchObject({ sqlState: "P0002", reason: "not_found" });
    }
    // PostgREST maps P0002 (not P0001) to 500; both answers are identical, so nothing leaks.
    expect((notTheirs.cause as QueueRpcError).status).toBe((missing.cause as QueueRpcError).status);
    const queued = (await messagesIn(database.pool, "report_generation_queue")).filter(
      (row) => row.message.assessment_id === assessmentId,
    );
    expect(queued).toEqual([]);
  });

  it("refuses a checkup that is not completed yet: NotCompletedError (22023)", async () => {
    const owner = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id, "in_progress");
    const error = await failure(
      requestAssessmentReport(supabaseTransport(userClient(owner.id)), assessmentId),
      NotCompletedError,
    );
    expect(error).toMatchObject({ code: "not_completed", assessmentId });
    expect(error.cause).toMatchObject({ sqlState: "22023", status: 400 });
    expect((error.cause as Error).message).toMatch(/assessment is not completed \(status in_progress\)/);
  });

  it("is not callable without a user: anon and service_role get NotSignedInError", async () => {
    const owner = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id);
    const anon = await failure(
      requestAssessmentReport(supabaseTransport(anonClient()), assessmentId),
      NotSignedInError,
    );
    expect(anon.code).toBe("not_signed_in");
    expect(anon.cause).toMatchObject({ sqlState: "42501", status: 401 });
    const service = await failure(
      requestAssessmentReport(supabaseTransport(serviceClient()), assessmentId),
      NotSignedInError,
    );
    expect(service.cause).toMatchObject({ sqlState: "42501" });
  });
});
