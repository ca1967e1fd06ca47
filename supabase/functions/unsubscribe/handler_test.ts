import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { DatabaseRpcError } from "../_shared/database-rpc.ts";
import type { Log } from "../_shared/log.ts";
import { createUnsubscribeHandler, type UnsubscribeResult } from "./handler.ts";
import { signUnsubscribeToken } from "./token.ts";

// The handler with the database call recorded (its SQL is tested against PostgreSQL, and the whole
// path, worker → email → this function over HTTP → PostgreSQL, in apps/worker's vitest suite).

const secret = "a-test-secret-made-for-this-file-only-0123456789";
const userId = "7d0c1b7e-1111-4222-8333-944455556666";

function harness(options: { fail?: Error; result?: UnsubscribeResult } = {}) {
  const calls: string[] = [];
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const log: Log = (level, message, fields = {}) => lines.push({ level, message, fields });
  const handle = createUnsubscribeHandler({
    secret,
    unsubscribe: (id) => {
      calls.push(id);
      if (options.fail) return Promise.reject(options.fail);
      return Promise.resolve(options.result ?? { outcome: "unsubscribed" });
    },
    log,
  });
  return { handle, calls, lines };
}

async function link(token?: string): Promise<string> {
  const value = token ?? (await signUnsubscribeToken(secret, userId, "reminders"));
  return `http://localhost/functions/v1/unsubscribe?token=${encodeURIComponent(value)}`;
}

function oneClick(url: string, body: BodyInit = "List-Unsubscribe=One-Click", type?: string): Request {
  const headers: Record<string, string> = {};
  if (type) headers["content-type"] = type;
  else if (typeof body === "string") headers["content-type"] = "application/x-www-form-urlencoded";
  return new Request(url, { method: "POST", headers, body });
}

Deno.test("one-click POST (form-urlencoded) turns reminders off and answers 200", async () => {
  const h = harness();
  const response = await h.handle(oneClick(await link()));
  assertEquals(response.status, 200);
  await response.body?.cancel();
  assertEquals(h.calls, [userId]);
  // The log says what happened, never who or with which token.
  const logged = JSON.stringify(h.lines);
  ok(logged.includes("unsubscribed"));
  assertEquals(logged.includes(userId), false);
});

Deno.test("one-click POST as multipart/form-data works too (RFC 8058 allows both)", async () => {
  const h = harness();
  const form = new FormData();
  form.set("List-Unsubscribe", "One-Click");
  const response = await h.handle(new Request(await link(), { method: "POST", body: form }));
  assertEquals(response.status, 200);
  await response.body?.cancel();
  assertEquals(h.calls, [userId]);
});

Deno.test("a second click answers 200 as well (idempotent)", async () => {
  const h = harness({ result: { outcome: "already_off" } });
  const response = await h.handle(oneClick(await link()));
  assertEquals(response.status, 200);
  await response.body?.cancel();
});

Deno.test("GET shows a page whose button posts the one-click body, and unsubscribes nobody", async () => {
  const h = harness();
  const url = await link();
  const response = await h.handle(new Request(url));
  assertEquals(response.status, 200);
  const page = await response.text();
  assertEquals(h.calls, []);
  ok(/<form method="post" action="\/functions\/v1\/unsubscribe\?token=[^"]+">/.test(page), page);
  ok(page.includes('name="List-Unsubscribe" value="One-Click"'));
});

Deno.test("a forged, changed or missing token is refused with 403 and the same words", async () => {
  const h = harness();
  const good = await signUnsubscribeToken(secret, userId, "reminders");
  const forged = [
    await signUnsubscribeToken("another-secret-of-at-least-32-characters!!", userId, "reminders"),
    await signUnsubscribeToken(secret, userId, "reports"),
    good.replace(userId, "7d0c1b7e-1111-4222-8333-944455556667"),
    "garbage",
    "",
  ];
  const bodies = new Set<string>();
  for (const token of forged) {
    const response = await h.handle(oneClick(await link(token)));
    assertEquals(response.status, 403, token);
    bodies.add(await response.text());
  }
  const missing = await h.handle(oneClick("http://localhost/functions/v1/unsubscribe"));
  assertEquals(missing.status, 403);
  bodies.add(await missing.text());
  assertEquals(bodies.size, 1);
  assertEquals(h.calls, []);
});

Deno.test("a POST without the one-click body is refused with 400", async () => {
  const h = harness();
  for (const body of ["", "List-Unsubscribe=Yes", "unsubscribe=1"]) {
    const response = await h.handle(oneClick(await link(), body));
    assertEquals(response.status, 400, body);
    await response.body?.cancel();
  }
  assertEquals(h.calls, []);
});

Deno.test("answers 503 when the database cannot be asked (the provider retries)", async () => {
  const h = harness({ fail: new DatabaseRpcError("database_unreachable", "down", 503) });
  const response = await h.handle(oneClick(await link()));
  assertEquals(response.status, 503);
  await response.body?.cancel();
});

Deno.test("other methods: 405", async () => {
  const h = harness();
  const response = await h.handle(new Request(await link(), { method: "PUT", body: "x" }));
  assertEquals(response.status, 405);
  await response.body?.cancel();
  assertEquals(h.calls, []);
});
