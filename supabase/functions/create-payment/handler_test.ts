import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DatabaseRpcError } from "../_shared/database-rpc.ts";
import { startFakeApi } from "../_shared/testing/fake-yookassa-api.ts";
import { yookassaApi } from "../_shared/yookassa-api.ts";
import { createPaymentHandler, type StartedPayment } from "./handler.ts";

// The handler against a real HTTP stand-in of YooKassa's API; the two database calls are recorded
// here (their SQL is tested against PostgreSQL, and the whole path end to end, in the vitest suites).

const appointmentId = "5b0f7c2e-0000-4000-8000-0000000000a1";
const paymentId = "5b0f7c2e-0000-4000-8000-0000000000b2";

function harness(started: Partial<StartedPayment> | Error = {}) {
  const api = startFakeApi();
  const calls: Array<{ fn: string; args: unknown[] }> = [];
  const handle = createPaymentHandler({
    api: yookassaApi({ apiUrl: api.apiUrl, shopId: api.shopId, secretKey: api.secretKey }),
    startPayment: (jwt, id) => {
      calls.push({ fn: "start", args: [jwt, id] });
      if (started instanceof Error) return Promise.reject(started);
      return Promise.resolve({
        payment_id: paymentId,
        amount: 4500,
        currency: "RUB",
        provider_payment_id: null,
        description: "Консультация",
        ...started,
      });
    },
    attachProviderPayment: (id, providerId) => {
      calls.push({ fn: "attach", args: [id, providerId] });
      return Promise.resolve();
    },
    returnUrl: "https://app.example/payments/done",
    log: () => {},
  });
  return { api, calls, handle };
}

function post(body: unknown, jwt: string | null = "user.jwt.token"): Request {
  return new Request("http://localhost/functions/v1/create-payment", {
    method: "POST",
    headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify(body),
  });
}

Deno.test("creates the YooKassa payment at our price with our payment id as the Idempotence-Key", async () => {
  const h = harness();
  try {
    const response = await h.handle(post({ appointment_id: appointmentId, amount: { value: "1.00" } }));
    assertEquals(response.status, 200);
    const body = await response.json();
    assertEquals(body.payment_id, paymentId);
    assertEquals(String(body.confirmation_url).startsWith("https://yoomoney.test/checkout/"), true);
    assertEquals(h.api.created.length, 1);
    assertEquals(h.api.created[0]?.key, paymentId);
    assertEquals(h.api.created[0]?.body.amount, { value: "4500.00", currency: "RUB" });
    assertEquals(h.api.created[0]?.body.capture, true);
    assertEquals(h.api.created[0]?.body.metadata, { payment_id: paymentId, appointment_id: appointmentId });
    assertEquals(h.calls[0], { fn: "start", args: ["user.jwt.token", appointmentId] });
    assertEquals(h.calls[1]?.fn, "attach");
    assertEquals(h.calls[1]?.args[0], paymentId);
  } finally {
    await h.api.close();
  }
});

Deno.test("continues a payment already linked: its confirmation URL, nothing created", async () => {
  const h = harness({ provider_payment_id: "pay-1" });
  try {
    h.api.payments.set("pay-1", {
      id: "pay-1",
      status: "pending",
      amount: { value: "4500.00", currency: "RUB" },
      confirmation: { type: "redirect", confirmation_url: "https://yoomoney.test/checkout/pay-1" },
    });
    const response = await h.handle(post({ appointment_id: appointmentId }));
    assertEquals(response.status, 200);
    assertEquals((await response.json()).confirmation_url, "https://yoomoney.test/checkout/pay-1");
    assertEquals(h.api.created.length, 0);
  } finally {
    await h.api.close();
  }
});

Deno.test("asks for a session and names a bad appointment_id", async () => {
  const h = harness();
  try {
    assertEquals((await h.handle(post({ appointment_id: appointmentId }, null))).status, 401);
    const bad = await h.handle(post({ appointment_id: "not-a-uuid" }));
    assertEquals(bad.status, 400);
    assertEquals((await bad.json()).fields, ["appointment_id"]);
    assertEquals(h.calls.length, 0);
  } finally {
    await h.api.close();
  }
});

Deno.test("passes the database's refusal on (not the caller's appointment: 404)", async () => {
  const h = harness(new DatabaseRpcError("P0002", "appointment not found", 404));
  try {
    const response = await h.handle(post({ appointment_id: appointmentId }));
    assertEquals(response.status, 404);
    assertEquals(h.api.created.length, 0);
  } finally {
    await h.api.close();
  }
});
