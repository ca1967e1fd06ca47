import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openQueueDatabase, type QueueDatabase, sendRaw } from "./support/queue-database.ts";

// 033_pgmq_rpc_wrappers.sql checked in SQL: who may call what, how each function is defined, and
// how it refuses bad arguments.

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

const functions = {
  "public.pgmq_send(text, jsonb, integer)": "service_role",
  "public.pgmq_read(text, integer, integer)": "service_role",
  "public.pgmq_archive(text, bigint)": "service_role",
  "public.pgmq_delete(text, bigint)": "service_role",
  "public.pgmq_metrics(text)": "service_role",
  "public.pgmq_dead_letter(text, bigint, text, text, integer)": "service_role",
  "public.request_assessment_report(uuid)": "authenticated",
} as const;

/** Runs `text` as `role` (with JWT claims) in a transaction that is rolled back; returns rows or the error. */
async function asRole(role: string, text: string, values: unknown[] = [], claims: object = { role }) {
  const client = await database.pool.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
      role,
      JSON.stringify(claims),
    ]);
    return await client.query(text, values);
  } finally {
    await client.query("rollback");
    client.release();
  }
}

async function sqlError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toMatchObject({ code: expect.any(String) });
  return error as { code: string; message: string };
}

describe("grants", () => {
  it.each(Object.entries(functions))("%s may be executed by %s only", async (signature, caller) => {
    const { rows } = await database.pool.query<{ role: string; allowed: boolean }>(
      `select role, pg_catalog.has_function_privilege(role, $1::regprocedure, 'execute') as allowed
       from unnest(array['anon', 'authenticated', 'service_role']) as role`,
      [signature],
    );
    expect(Object.fromEntries(rows.map((row) => [row.role, row.allowed]))).toEqual({
      anon: false,
      authenticated: caller === "authenticated",
      service_role: caller === "service_role",
    });
    // Nothing through PUBLIC either.
    const acl = await database.pool.query<{ acl: string | null }>(
      "select proacl::text as acl from pg_catalog.pg_proc where oid = $1::regprocedure",
      [signature],
    );
    expect(acl.rows[0]?.acl).not.toMatch(/(^|[{,])=X/);
  });
});

describe("definitions", () => {
  it.each(Object.keys(functions))(
    "%s is security definer with an empty search_path and a comment",
    async (signature) => {
      const { rows } = await database.pool.query<{
        definer: boolean;
        config: string[] | null;
        comment: string | null;
      }>(
        `select p.prosecdef as definer, p.proconfig as config,
              pg_catalog.obj_description(p.oid, 'pg_proc') as comment
       from pg_catalog.pg_proc p where p.oid = $1::regprocedure`,
        [signature],
      );
      expect(rows[0]).toMatchObject({ definer: true, config: ['search_path=""'] });
      expect(rows[0]?.comment).toMatch(/^(service_role only|authenticated)/);
    },
  );
});

describe("queue names", () => {
  it.each([
    ["pgmq_send", "select public.pgmq_send('nope', '{}'::jsonb)"],
    ["pgmq_read", "select * from public.pgmq_read('nope')"],
    ["pgmq_archive", "select public.pgmq_archive('nope', 1)"],
    ["pgmq_delete", "select public.pgmq_delete('nope', 1)"],
    ["pgmq_metrics", "select * from public.pgmq_metrics('nope')"],
    ["pgmq_dead_letter", "select public.pgmq_dead_letter('nope', 1, 'c', 'm', 1)"],
  ])("%s refuses an unknown queue with 22023, naming queue_name", async (name, text) => {
    const error = await sqlError(asRole("service_role", text));
    expect(error.code).toBe("22023");
    expect(error.message).toBe(`${name}: queue_name "nope" is not a queue (pgmq.list_queues() lists them)`);
  });

  it("pgmq_dead_letter refuses a queue without a dead-letter queue", async () => {
    const error = await sqlError(
      asRole("service_role", "select public.pgmq_dead_letter('email_queue_dlq', 1, 'c', 'm', 1)"),
    );
    expect(error).toMatchObject({
      code: "22023",
      message: expect.stringContaining('no dead-letter queue "email_queue_dlq_dlq"'),
    });
  });
});

describe("arguments", () => {
  it.each([
    [
      "select * from public.pgmq_read('email_queue', 30, 0)",
      "pgmq_read: qty must be between 1 and 1000 (got 0)",
    ],
    [
      "select * from public.pgmq_read('email_queue', 30, 1001)",
      "pgmq_read: qty must be between 1 and 1000 (got 1001)",
    ],
    [
      "select * from public.pgmq_read('email_queue', -1, 1)",
      "pgmq_read: vt must be 0 or more seconds (got -1)",
    ],
    ["select public.pgmq_send('email_queue', '[1]'::jsonb)", "pgmq_send: message must be a JSON object"],
    [
      "select public.pgmq_send('email_queue', '{}'::jsonb, -3)",
      "pgmq_send: delay must be 0 or more seconds (got -3)",
    ],
    [
      "select public.pgmq_dead_letter('email_queue', 1, ' ', 'm', 1)",
      "pgmq_dead_letter: error_code must not be empty",
    ],
    [
      "select public.pgmq_dead_letter('email_queue', 1, 'c', 'm', -1)",
      "pgmq_dead_letter: attempts must be 0 or more (got -1)",
    ],
  ])("%s → 22023", async (text, message) => {
    const error = await sqlError(asRole("service_role", text));
    expect(error).toEqual(expect.objectContaining({ code: "22023", message }));
  });
});

describe("service_role through the wrappers", () => {
  it("sends, reads, archives and deletes", async () => {
    const sent = await asRole(
      "service_role",
      "select public.pgmq_send('analytics_queue', '{\"a\":1}'::jsonb, 0) as id",
    );
    expect(Number(sent.rows[0].id)).toBeGreaterThan(0);
    const id = await sendRaw(database.pool, "analytics_queue", { b: 2 });
    const read = await asRole("service_role", "select * from public.pgmq_read('analytics_queue', 30, 10)");
    expect(read.rows.map((row) => Number(row.msg_id))).toContain(id);
    const archived = await asRole("service_role", "select public.pgmq_archive('analytics_queue', $1) as ok", [
      id,
    ]);
    expect(archived.rows[0].ok).toBe(true);
    const deleted = await asRole("service_role", "select public.pgmq_delete('analytics_queue', $1) as ok", [
      id,
    ]);
    expect(deleted.rows[0].ok).toBe(true);
    const missing = await asRole(
      "service_role",
      "select public.pgmq_delete('analytics_queue', 123456) as ok",
    );
    expect(missing.rows[0].ok).toBe(false);
  });
});

describe("request_assessment_report without a user", () => {
  it("refuses a request whose JWT has no sub (42501)", async () => {
    const error = await sqlError(
      asRole("authenticated", "select public.request_assessment_report(gen_random_uuid())", [], {
        role: "authenticated",
      }),
    );
    expect(error).toMatchObject({
      code: "42501",
      message: "request_assessment_report: the request has no signed-in user",
    });
  });
});
