// queueTestEmail, the console's browser-safe producer: checked before any call, then through
// supabase-js → HTTP → the PostgREST stand-in → console_queue_test_email, with an operator's JWT
// and with a plain user's.
import { runAccessTokenHook } from "@balansity/devstack/access-token-hook";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { emailTemplateExamples } from "@balansity/emails";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailMessageSchema, InvalidMessageError, QueueRpcError, queueTestEmail } from "../src/index.ts";
import type { QueueTransport } from "../src/queue-transport.ts";
import { supabaseTransport } from "../src/supabase/index.ts";
import { messagesIn, openQueueDatabase, type QueueDatabase } from "./support/queue-database.ts";

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

type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;

/** rpc() never opens a socket; this class makes sure of it. */
class NoWebSocket {
  constructor() {
    throw new Error("rpc() only: no realtime connection");
  }
}

/** A session as Supabase Auth issues it: the claims through the access token hook (operators: role operator). */
async function signedIn(appMetadata: object): Promise<SupabaseClient> {
  const claims = await runAccessTokenHook(database.db.url, {
    role: "authenticated",
    sub: "99999999-9999-4999-8999-999999999999",
    aud: "authenticated",
    app_metadata: appMetadata,
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const token = api.signJwt(claims);
  return createClient(api.url, api.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as unknown as RealtimeTransport },
    global: { headers: { Authorization: `Bearer ${token}` } },
  });
}

describe("queueTestEmail", () => {
  it("queues the template's example email for an operator's session", async () => {
    const { msgId } = await queueTestEmail(supabaseTransport(await signedIn({ role: "operator" })), {
      to: "ops@example.com",
      template: "appointment_reminder_1h",
      locale: "en",
    });
    const sent = (await messagesIn(database.pool, "email_queue")).find((row) => row.msg_id === msgId);
    const message = emailMessageSchema.parse(sent?.message);
    expect(message).toMatchObject({
      to: "ops@example.com",
      template: "appointment_reminder_1h",
      locale: "en",
    });
    expect(message.variables).toEqual(emailTemplateExamples.appointment_reminder_1h);
  });

  it("is refused for a signed-in user who is not an operator (42501, HTTP 403), and nothing is queued", async () => {
    const before = (await messagesIn(database.pool, "email_queue")).length;
    const error = await queueTestEmail(supabaseTransport(await signedIn({ provider: "email" })), {
      to: "ops@example.com",
      template: "report_ready",
    }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(QueueRpcError);
    expect(error).toMatchObject({ sqlState: "42501", status: 403, reason: "permission_denied" });
    expect((error as Error).message).toContain("permission denied for function console_queue_test_email");
    expect(await messagesIn(database.pool, "email_queue")).toHaveLength(before);
  });

  it("names every bad field before calling the database", async () => {
    const calls: string[] = [];
    const recording: QueueTransport = {
      async call(name) {
        calls.push(name);
        return 1;
      },
    };
    const error = await queueTestEmail(recording, {
      to: "not an address",
      template: "hello" as "report_ready",
      locale: "de" as "en",
    }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as InvalidMessageError).fields.map((field) => field.path)).toEqual([
      "to",
      "template",
      "locale",
    ]);
    expect(calls).toEqual([]);
  });
});
