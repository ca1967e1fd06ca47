import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { DatabaseRpcError } from "../_shared/database-rpc.ts";
import type { Log } from "../_shared/log.ts";
import { startFakeApi } from "../_shared/testing/fake-yookassa-api.ts";
import { yookassaApi } from "../_shared/yookassa-api.ts";
import { type ApplyResult, createWebhookHandler } from "./handler.ts";

// The handler against a real HTTP stand-in of YooKassa's API. The database call is recorded here
// (its SQL is tested against PostgreSQL, and the whole path end to end, in the vitest suites).

interface Harness {
  handle: ReturnType<typeof createWebhookHandler>;
  applied: Array<Record<string, unknown>>;
  lines: Array<{ level: string; message: string; fields: Record<string, unknown> }>;
  api: ReturnType<typeof startFakeApi>;
}

function harness(options: { checkIp?: boolean; result?: ApplyResult; fail?: Error } = {}): Harness {
  const api = startFakeApi();
  const applied: Array<Record<string, unknown>> = [];
  const lines: Harness["lines"] = [];
  const log: Log = (level, message, fields = {}) => lines.push({ level, message, fields });
  const handle = createWebhookHandler({
    api: yookassaApi({ apiUrl: api.apiUrl, shopId: api.shopId, secretKey: api.secretKey }),
    applyNotification: (args) => {
      applied.push(args);
      if (options.fail) return Promise.reject(options.fail);
      return Promise.resolve(options.result ?? { outcome: "applied", payment_id: "p", status: "completed" });
    },
    checkIp: options.checkIp ?? false,
    log,
  });
  return { handle, applied, lines, api };
}

function notification(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/functions/v1/yookassa-webhook", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const payment = {
  id: "2d5c7a5e-000f-5000-9000-1b8a7c1e2f10",
  status: "succeeded",
  paid: true,
  amount: { value: "1500.00", currency: "RUB" },
  metadata: { payment_id: "5b0f7c2e-0000-4000-8000-000000000001" },
};

Deno.test("answers 400 to a body that is not JSON, without logging the body", async () => {
  const h = harness();
  try {
    const response = await h.handle(notification("{ card: 4111 1111, email: anna@example.com"));
    assertEquals(response.status, 400);
    assertEquals(h.applied.length, 0);
    assertEquals(h.api.requests.length, 0);
    const logged = JSON.stringify(h.lines);
    assertEquals(logged.includes("anna@example.com"), false);
    assertEquals(logged.includes("4111"), false);
    ok(logged.includes("not_json"));
  } finally {
    await h.api.close();
  }
});

Deno.test("answers 400 naming the fields of a notification that is not one", async () => {
  const h = harness();
  try {
    const response = await h.handle(
      notification({
        type: "notification",
        event: "payment.succeeded",
        object: { status: "x", email: "a@b.c" },
      }),
    );
    assertEquals(response.status, 400);
    assertEquals((await response.json()).fields, ["object.id"]);
    assertEquals(JSON.stringify(h.lines).includes("a@b.c"), false);
  } finally {
    await h.api.close();
  }
});

Deno.test("asks the API about the payment and applies what the API says, not the body", async () => {
  const h = harness();
  try {
    h.api.payments.set(payment.id, payment);
    const forgedBody = { ...payment, amount: { value: "1.00", currency: "RUB" } };
    const response = await h.handle(
      notification({ type: "notification", event: "payment.succeeded", object: forgedBody }),
    );
    assertEquals(response.status, 200);
    assertEquals(h.api.requests, [`GET /v3/payments/${payment.id}`]);
    assertEquals(h.applied, [
      { provider: "yookassa", event: "payment.succeeded", object_id: payment.id, api_object: payment },
    ]);
  } finally {
    await h.api.close();
  }
});

Deno.test("passes a payment the API does not know as null and raises an alert on the refusal", async () => {
  const h = harness({ result: { outcome: "refused", reason: "not_found", payment_id: null } });
  try {
    const response = await h.handle(
      notification({ type: "notification", event: "payment.succeeded", object: payment }),
    );
    assertEquals(response.status, 200);
    assertEquals(h.applied[0]?.api_object, null);
    const alert = h.lines.find((line) => line.level === "error");
    assertEquals(alert?.fields.alert, "payment_notification_refused");
    assertEquals(alert?.fields.reason, "not_found");
  } finally {
    await h.api.close();
  }
});

Deno.test("reads refunds from /v3/refunds", async () => {
  const h = harness();
  try {
    const refund = { id: "rf-1", payment_id: payment.id, status: "succeeded", amount: payment.amount };
    h.api.refunds.set(refund.id, refund);
    const response = await h.handle(
      notification({ type: "notification", event: "refund.succeeded", object: refund }),
    );
    assertEquals(response.status, 200);
    assertEquals(h.api.requests, ["GET /v3/refunds/rf-1"]);
    assertEquals(h.applied[0]?.api_object, refund);
  } finally {
    await h.api.close();
  }
});

Deno.test("answers 502 when YooKassa's API fails, so the notification comes again", async () => {
  const h = harness();
  try {
    h.api.failNext(500);
    const response = await h.handle(
      notification({ type: "notification", event: "payment.succeeded", object: payment }),
    );
    assertEquals(response.status, 502);
    assertEquals(h.applied.length, 0);
  } finally {
    await h.api.close();
  }
});

Deno.test("answers 503 when the database cannot be reached", async () => {
  const h = harness({ fail: new DatabaseRpcError("database_unreachable", "down", 503) });
  try {
    h.api.payments.set(payment.id, payment);
    const response = await h.handle(
      notification({ type: "notification", event: "payment.succeeded", object: payment }),
    );
    assertEquals(response.status, 503);
  } finally {
    await h.api.close();
  }
});

Deno.test("ignores events it does not handle without asking anyone", async () => {
  const h = harness();
  try {
    const response = await h.handle(
      notification({ type: "notification", event: "payout.succeeded", object: { id: "po-1" } }),
    );
    assertEquals(response.status, 200);
    assertEquals(h.api.requests.length, 0);
    assertEquals(h.applied.length, 0);
  } finally {
    await h.api.close();
  }
});

Deno.test("with the IP check on, refuses callers outside YooKassa's ranges and accepts those inside", async () => {
  const h = harness({ checkIp: true });
  try {
    h.api.payments.set(payment.id, payment);
    const body = { type: "notification", event: "payment.succeeded", object: payment };
    const outside = await h.handle(notification(body), { remoteAddr: { hostname: "203.0.113.7" } });
    assertEquals(outside.status, 403);
    const forwarded = await h.handle(notification(body, { "x-forwarded-for": "185.71.76.9, 10.0.0.1" }));
    assertEquals(forwarded.status, 200);
    const direct = await h.handle(notification(body), { remoteAddr: { hostname: "77.75.156.11" } });
    assertEquals(direct.status, 200);
    assertEquals(h.applied.length, 2);
  } finally {
    await h.api.close();
  }
});

Deno.test("refuses other methods", async () => {
  const h = harness();
  try {
    const response = await h.handle(new Request("http://localhost/", { method: "GET" }));
    assertEquals(response.status, 405);
  } finally {
    await h.api.close();
  }
});
