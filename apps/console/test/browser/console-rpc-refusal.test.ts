import { applySeed } from "@balansity/devstack";
import { runAccessTokenHook } from "@balansity/devstack/access-token-hook";
import { findOperator } from "@balansity/devstack/console-sign-in";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// What the browser can do with a session that is not an operator's: nothing in the console. Every
// console_* RPC is called through supabase-js, as the console calls it, with valid arguments.

const SEEDED_USER = { id: "11111111-1111-4111-8111-111111111111", email: "anna.ivanova@example.com" };
const COMPLETED_ASSESSMENT = "aaaaaaaa-0000-4000-8000-000000000002";

/** Every console RPC of the contract, with arguments an operator's call would succeed with. */
const consoleCalls: readonly (readonly [string, Record<string, unknown>])[] = [
  ["console_queue_overview", {}],
  ["console_queue_history", { queue_name: "email_queue", hours: 6 }],
  ["console_peek_messages", { queue_name: "email_queue", max_count: 10 }],
  ["console_dead_letters", { queue_name: "email_queue" }],
  ["console_retry_dead_letters", { queue_name: "email_queue" }],
  ["console_discard_dead_letters", { queue_name: "email_queue", msg_ids: [1] }],
  ["console_cron_jobs", {}],
  ["console_cron_runs", { jobname: "purge-queue-archives" }],
  ["console_email_deliveries", {}],
  ["console_email_budget", { tiers: { report_ready: 1 } }],
  ["console_queue_test_email", { to_address: "someone@example.com", template: "report_ready", locale: "en" }],
  ["console_reports", {}],
  ["console_regenerate_report", { assessment_id: COMPLETED_ASSESSMENT }],
];

type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;

/** rpc() never opens a socket; this refuses to, so a test that did would fail loudly. */
class NoWebSocket {
  constructor() {
    throw new Error("these tests use rpc() only: no realtime connection");
  }
}

let db: TestDatabase;
let api: PostgrestRpc;

function client(accessToken?: string): SupabaseClient {
  return createClient(api.url, api.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as unknown as RealtimeTransport },
    ...(accessToken ? { global: { headers: { Authorization: `Bearer ${accessToken}` } } } : {}),
  });
}

/** A user's access token as Supabase Auth issues it: the claims through the access token hook. */
async function userToken(
  user: { id: string; email: string },
  appMetadata: Record<string, unknown>,
): Promise<string> {
  const claims = await runAccessTokenHook(db.url, {
    role: "authenticated",
    aud: "authenticated",
    sub: user.id,
    email: user.email,
    app_metadata: appMetadata,
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  return api.signJwt(claims);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await applySeed(db.url);
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
});

afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

describe("console RPCs through supabase-js", () => {
  it("refuses a signed-in user who is not an operator, on every console RPC (42501 permission denied, HTTP 403)", async () => {
    const anna = client(await userToken(SEEDED_USER, { provider: "email" }));
    const answers = await Promise.all(
      consoleCalls.map(async ([rpc, args]) => {
        const { error, status } = await anna.rpc(rpc, args);
        return [rpc, error?.code, status, error?.message];
      }),
    );
    expect(answers).toEqual(
      consoleCalls.map(([rpc]) => [rpc, "42501", 403, `permission denied for function ${rpc}`]),
    );
  });

  it("refuses an operator's token issued without the hook (role authenticated): the grant, not only the check", async () => {
    const withoutHook = api.signJwt({
      role: "authenticated",
      sub: SEEDED_USER.id,
      app_metadata: { provider: "email", role: "operator" },
    });
    const { error, status } = await client(withoutHook).rpc("console_queue_overview", {});
    expect([error?.code, status, error?.message]).toEqual([
      "42501",
      403,
      "permission denied for function console_queue_overview",
    ]);
  });

  it("refuses a user who put role operator in user_metadata, which the user can edit", async () => {
    const sneaky = api.signJwt({
      role: "authenticated",
      sub: SEEDED_USER.id,
      app_metadata: { provider: "email" },
      user_metadata: { role: "operator" },
    });
    const { error } = await client(sneaky).rpc("console_queue_overview", {});
    expect(error?.code).toBe("42501");
  });

  it("refuses the anon key without a session on every console RPC (HTTP 401)", async () => {
    const anon = client();
    const answers = await Promise.all(
      consoleCalls.map(async ([rpc, args]) => {
        const { error, status } = await anon.rpc(rpc, args);
        return [rpc, error?.code, status];
      }),
    );
    expect(answers).toEqual(consoleCalls.map(([rpc]) => [rpc, "42501", 401]));
  });

  it("answers the seeded operator on every console RPC", async () => {
    const operator = await findOperator(db.url);
    if (!operator) throw new Error("the seed has no operator");
    const token = await userToken(operator, { provider: "email", role: "operator" });
    // The hook named the operator role, which the API switches to.
    expect(JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")).role).toBe(
      "operator",
    );
    const console = client(token);
    const failures = [];
    for (const [rpc, args] of consoleCalls) {
      const { error } = await console.rpc(rpc, args);
      if (error) failures.push(`${rpc}: ${error.code} ${error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
