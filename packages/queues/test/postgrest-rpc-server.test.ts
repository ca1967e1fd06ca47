import { createHmac } from "node:crypto";
import {
  type PostgrestRpc,
  randomJwtSecret,
  startPostgrestRpc,
  statusOfSqlState,
} from "@balansity/devstack/postgrest-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openQueueDatabase, type QueueDatabase } from "./support/queue-database.ts";

// The PostgREST stand-in the supabase-js tests run through: if it let a bad token in, or ran a
// call as the wrong role, those tests would prove nothing. So it is tested on its own here.

let database: QueueDatabase;
let api: PostgrestRpc;

beforeAll(async () => {
  database = await openQueueDatabase();
  await database.pool.query(`
    create function public.test_whoami(greeting text default 'hi')
    returns jsonb language sql stable as $$
      select jsonb_build_object('greeting', greeting, 'user', current_user, 'uid', auth.uid(), 'role', auth.role())
    $$;
    grant execute on function public.test_whoami(text) to anon, authenticated, service_role;
    create function public.test_numbers(n integer) returns setof integer language sql as $$ select generate_series(1, n) $$;
    grant execute on function public.test_numbers(integer) to anon;
    create function public.test_raise(code text) returns void language plpgsql as $$
    begin raise exception 'raised %', code using errcode = code, detail = 'some detail', hint = 'some hint'; end $$;
    grant execute on function public.test_raise(text) to anon;
  `);
  api = await startPostgrestRpc({ databaseUrl: database.db.url, jwtSecret: randomJwtSecret() });
});

afterAll(async () => {
  await api?.stop();
  await database?.close();
});

async function rpc(name: string, body: unknown, headers: Record<string, string> = {}, method = "POST") {
  const response = await fetch(`${api.url}/rest/v1/rpc/${name}`, {
    method,
    headers: { "content-type": "application/json", apikey: api.anonKey, ...headers },
    ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("roles and claims", () => {
  it("runs a call without Authorization as anon", async () => {
    expect(await rpc("test_whoami", {})).toEqual({
      status: 200,
      body: { greeting: "hi", user: "anon", uid: null, role: "anon" },
    });
  });

  it("runs a call as the JWT's role, with its claims for auth.uid()", async () => {
    const sub = "11111111-2222-4333-8444-555555555555";
    const token = api.signJwt({ role: "authenticated", sub });
    expect(await rpc("test_whoami", { greeting: "привет" }, bearer(token))).toEqual({
      status: 200,
      body: { greeting: "привет", user: "authenticated", uid: sub, role: "authenticated" },
    });
    const service = await rpc("test_whoami", {}, bearer(api.serviceRoleKey));
    expect(service.body).toMatchObject({ user: "service_role" });
  });

  it("leaves no role or claim behind on the pooled connection", async () => {
    const token = api.signJwt({ role: "authenticated", sub: "11111111-2222-4333-8444-555555555555" });
    await Promise.all([1, 2, 3, 4, 5, 6].map(() => rpc("test_whoami", {}, bearer(token))));
    const anon = await Promise.all([1, 2, 3, 4, 5, 6].map(() => rpc("test_whoami", {})));
    expect(anon.map((response) => response.body)).toEqual(
      Array(6).fill({ greeting: "hi", user: "anon", uid: null, role: "anon" }),
    );
  });
});

describe("refused before the database", () => {
  it("a request without apikey (401)", async () => {
    const response = await fetch(`${api.url}/rest/v1/rpc/test_whoami`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ message: "No API key found in request" });
  });

  it("an apikey signed with another secret (401)", async () => {
    const other = await startPostgrestRpc({ databaseUrl: database.db.url, jwtSecret: randomJwtSecret() });
    try {
      expect(await rpc("test_whoami", {}, { apikey: other.anonKey })).toMatchObject({
        status: 401,
        body: { message: "Invalid API key" },
      });
    } finally {
      await other.stop();
    }
  });

  it("a token with a forged signature or role (401 PGRST301)", async () => {
    const [header, , signature] = api.signJwt({ role: "anon" }).split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ role: "service_role" })).toString("base64url");
    expect(await rpc("test_whoami", {}, bearer(`${header}.${forgedPayload}.${signature}`))).toMatchObject({
      status: 401,
      body: { code: "PGRST301" },
    });
    expect(await rpc("test_whoami", {}, bearer(api.signJwt({ role: "postgres" } as never)))).toMatchObject({
      status: 401,
      body: { code: "PGRST301" },
    });
  });

  it("a token signed with another algorithm (401 PGRST301)", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ role: "service_role" })).toString("base64url");
    const unsigned = `${header}.${payload}.${createHmac("sha256", "x").update("y").digest("base64url")}`;
    expect((await rpc("test_whoami", {}, bearer(unsigned))).status).toBe(401);
  });

  it("an expired token (401 PGRST303)", async () => {
    const expired = api.signJwt({ role: "authenticated", exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await rpc("test_whoami", {}, bearer(expired))).toMatchObject({
      status: 401,
      body: { code: "PGRST303", message: "JWT expired" },
    });
  });

  it("an unknown function or argument (404 PGRST202), a GET (405)", async () => {
    expect(await rpc("nope", {})).toMatchObject({ status: 404, body: { code: "PGRST202" } });
    expect(await rpc("test_whoami", { greting: "typo" })).toMatchObject({
      status: 404,
      body: { code: "PGRST202" },
    });
    expect((await rpc("test_whoami", undefined, {}, "GET")).status).toBe(405);
  });
});

describe("answers as PostgREST does", () => {
  it("a setof function answers an array", async () => {
    expect(await rpc("test_numbers", { n: 3 })).toEqual({ status: 200, body: [1, 2, 3] });
  });

  it("a void function answers 204", async () => {
    // test_raise with a non-error SQLSTATE class would not raise; a void call that succeeds:
    await database.pool.query(
      "create function public.test_nothing() returns void language sql as 'select'; grant execute on function public.test_nothing() to anon",
    );
    expect(await rpc("test_nothing", {})).toEqual({ status: 204, body: undefined });
  });

  it.each([
    ["P0001", 400],
    ["P0002", 500],
    ["22023", 400],
    ["23505", 409],
  ])("an error %s answers HTTP %s with { code, message, details, hint }", async (code, status) => {
    expect(await rpc("test_raise", { code })).toEqual({
      status,
      body: { code, message: `raised ${code}`, details: "some detail", hint: "some hint" },
    });
  });

  it("maps 42501 to 401 for anon and 403 for a signed-in role", () => {
    expect(statusOfSqlState("42501", "anon")).toBe(401);
    expect(statusOfSqlState("42501", "authenticated")).toBe(403);
    expect(statusOfSqlState("42883", "anon")).toBe(404);
    expect(statusOfSqlState("08006", "anon")).toBe(503);
  });
});
