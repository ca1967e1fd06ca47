import { randomUUID } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import {
  type EdgeFunctions,
  edgeFunctionNames,
  startEdgeFunctions,
} from "@balansity/devstack/edge-functions";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { createUser, queueLength } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// The money path on real parts: PostgreSQL with the migrations, the PostgREST-compatible API, the
// Edge Functions under Deno (served at /functions/v1/<name>), the YooKassa stand-in delivering
// notifications as YooKassa does, the worker, and the SMTP sink.

let db: TestDatabase;
let pool: pg.Pool;
let api: PostgrestRpc;
let yookassa: YooKassaStandIn;
let functions: EdgeFunctions;
let smtp: SmtpSink;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
  yookassa = await startYooKassaStandIn({ retryDelaysMs: [100, 200, 400] });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  functions = await startEdgeFunctions({
    names: edgeFunctionNames,
    env: {
      SUPABASE_URL: api.url,
      SUPABASE_ANON_KEY: api.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: api.serviceRoleKey,
      PAYMENT_API_URL: yookassa.apiUrl,
      PAYMENT_SHOP_ID: yookassa.shopId,
      PAYMENT_SECRET_KEY: yookassa.secretKey,
      PAYMENT_IP_CHECK: "off",
      // The unsubscribe function starts with the others (edgeFunctionNames); its key is made per run.
      UNSUBSCRIBE_SECRET: randomJwtSecret(),
      PAYMENT_RETURN_URL: "http://localhost:5173/payments/done",
    },
  });
  yookassa.setNotificationUrl(`${functions.url}/yookassa-webhook`);
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    env: {
      PAYMENT_API_URL: yookassa.apiUrl,
      PAYMENT_SHOP_ID: yookassa.shopId,
      PAYMENT_SECRET_KEY: yookassa.secretKey,
    },
  });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await functions?.stop();
  await smtp?.stop();
  await yookassa?.close();
  await api?.stop();
  await pool?.end();
  await db?.drop();
});

interface Booked {
  readonly user: { id: string; email: string };
  readonly appointmentId: string;
}

/** A user (English) books an appointment priced 4500 RUB; the confirmation email arrives. */
async function book(): Promise<Booked> {
  const user = await createUser(pool, { locale: "en", fullName: "John" });
  const { rows } = await pool.query<{ id: string }>(
    `insert into public.appointments (user_id, specialist_name, starts_at, ends_at, price_amount)
     values ($1, 'Maria', now() + interval '3 days', now() + interval '3 days 1 hour', 4500) returning id`,
    [user.id],
  );
  await smtp.waitForMessages(1, { timeoutMs: 15_000, to: user.email });
  return { user, appointmentId: rows[0]!.id };
}

/** What the frontend does: create-payment with the user's session. */
async function startPaying(booked: Booked, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${functions.url}/create-payment`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${api.signJwt({ role: "authenticated", sub: booked.user.id })}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ appointment_id: booked.appointmentId, ...extra }),
  });
  const body = (await response.json()) as { payment_id: string; confirmation_url: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  const { rows } = await pool.query<{ provider_payment_id: string; status: string; amount: string }>(
    "select provider_payment_id, status, amount::text from public.payments where id = $1",
    [body.payment_id],
  );
  return { ...body, row: rows[0]! };
}

async function paymentStatus(paymentId: string): Promise<{ status: string; appointment: string }> {
  const { rows } = await pool.query<{ status: string; appointment: string }>(
    `select p.status, a.payment_status as appointment
       from public.payments p join public.appointments a on a.id = p.appointment_id where p.id = $1`,
    [paymentId],
  );
  return rows[0]!;
}

function mailsTo(email: string, subject: RegExp) {
  return smtp
    .messages()
    .filter((mail) => mail.envelope.to.includes(email) && subject.test(mail.subject ?? ""));
}

async function drained(): Promise<void> {
  for (const queue of ["payment_processing_queue", "email_queue"]) {
    await waitFor(async () => (await queueLength(pool, queue)) === 0, { what: `empty ${queue}` });
  }
}

describe("paying for an appointment through YooKassa", () => {
  it("creates the payment at our price, and one receipt however often payment.succeeded arrives", async () => {
    const booked = await book();
    // A price in the request is ignored: the amount is the appointment's.
    const paying = await startPaying(booked, { amount: "1.00" });
    expect(paying.confirmation_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/checkout\//);
    expect(paying.row).toMatchObject({ status: "pending", amount: "4500.00" });
    const atProvider = yookassa.getPayment(paying.row.provider_payment_id)!;
    expect(atProvider.amount).toEqual({ value: "4500.00", currency: "RUB" });
    expect(atProvider.metadata).toMatchObject({ payment_id: paying.payment_id });
    expect((await paymentStatus(paying.payment_id)).appointment).toBe("pending");
    // Asking again continues the same payment (the same Idempotence-Key at YooKassa).
    expect((await startPaying(booked)).payment_id).toBe(paying.payment_id);

    await yookassa.succeedPayment(paying.row.provider_payment_id);
    await yookassa.notify("payment.succeeded", { ...atProvider }, { times: 2 });

    const delivered = yookassa.deliveries.filter((d) => d.objectId === paying.row.provider_payment_id);
    expect(delivered.map((d) => d.status)).toEqual([200, 200, 200]);
    expect(await paymentStatus(paying.payment_id)).toEqual({ status: "completed", appointment: "paid" });
    await smtp.waitForMessages(2, { timeoutMs: 15_000, to: booked.user.email });
    await drained();
    expect(mailsTo(booked.user.email, /^Payment received/)).toHaveLength(1);
  });

  it("a forged notification (unknown object, or another amount at the API) changes nothing and is recorded", async () => {
    const booked = await book();
    const paying = await startPaying(booked);
    const real = yookassa.getPayment(paying.row.provider_payment_id)!;

    // An object YooKassa does not know, dressed as our payment.
    const forgedId = randomUUID();
    await yookassa.notify("payment.succeeded", { ...real, id: forgedId, status: "succeeded" });
    // A succeeded payment at the API that carries our metadata but another amount.
    yookassa.putPayment({
      ...real,
      status: "succeeded",
      paid: true,
      amount: { value: "1.00", currency: "RUB" },
    });
    await yookassa.notify("payment.succeeded", yookassa.getPayment(real.id)!);

    expect(yookassa.deliveries.filter((d) => d.objectId === forgedId).map((d) => d.status)).toEqual([200]);
    expect(await paymentStatus(paying.payment_id)).toEqual({ status: "pending", appointment: "pending" });
    const { rows } = await pool.query<{ object_id: string; reason: string }>(
      "select object_id, reason from automation.payment_notifications where outcome = 'refused' and object_id = any($1) order by id",
      [[forgedId, real.id]],
    );
    expect(rows).toEqual([
      { object_id: forgedId, reason: "not_found" },
      { object_id: real.id, reason: "amount_mismatch" },
    ]);
    await drained();
    expect(mailsTo(booked.user.email, /^Payment received/)).toHaveLength(0);
  });

  it("refund.succeeded (a refund made at YooKassa) makes the payment refunded and sends the refund email", async () => {
    const booked = await book();
    const paying = await startPaying(booked);
    await yookassa.succeedPayment(paying.row.provider_payment_id);
    await waitFor(async () => (await paymentStatus(paying.payment_id)).status === "completed", {
      what: "payment completed",
    });

    // As if refunded from YooKassa's dashboard: the stand-in notifies refund.succeeded.
    const response = await fetch(`${yookassa.apiUrl}/refunds`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${yookassa.shopId}:${yookassa.secretKey}`).toString("base64")}`,
        "idempotence-key": randomUUID(),
        "content-type": "application/json",
      },
      body: JSON.stringify({
        payment_id: paying.row.provider_payment_id,
        amount: { value: "4500.00", currency: "RUB" },
      }),
    });
    expect(response.status).toBe(200);
    await waitFor(async () => (await paymentStatus(paying.payment_id)).status === "refunded", {
      what: "payment refunded",
    });
    expect((await paymentStatus(paying.payment_id)).appointment).toBe("refunded");
    await waitFor(async () => mailsTo(booked.user.email, /^Refund issued/).length === 1, {
      what: "refund email",
    });
    await drained();
    expect(mailsTo(booked.user.email, /^Refund issued/)).toHaveLength(1);
  });

  it("cancelling a paid appointment sends the cancellation, refunds through YooKassa and sends the refund email", async () => {
    const booked = await book();
    const paying = await startPaying(booked);
    await yookassa.succeedPayment(paying.row.provider_payment_id);
    await waitFor(async () => (await paymentStatus(paying.payment_id)).status === "completed", {
      what: "payment completed",
    });

    // An operator cancels it (as service code; the user's own cancellation goes through RLS).
    await pool.query("update public.appointments set status = 'cancelled' where id = $1", [
      booked.appointmentId,
    ]);

    await waitFor(async () => (await paymentStatus(paying.payment_id)).status === "refunded", {
      what: "payment refunded by the worker's refund request",
      timeoutMs: 20_000,
    });
    await waitFor(async () => mailsTo(booked.user.email, /^Refund issued/).length === 1, {
      what: "refund email",
    });
    await drained();
    const refunds = yookassa.refunds.filter((r) => r.payment_id === paying.row.provider_payment_id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.amount).toEqual({ value: "4500.00", currency: "RUB" });
    const post = yookassa.requests.filter((r) => r.method === "POST" && r.path === "/v3/refunds").at(-1);
    expect(post?.idempotenceKey).toBe(`refund:${paying.payment_id}`);
    expect(mailsTo(booked.user.email, /^Booking cancelled/)).toHaveLength(1);
    expect(mailsTo(booked.user.email, /^Refund issued/)).toHaveLength(1);
    const cancelled = mailsTo(booked.user.email, /^Booking cancelled/)[0];
    expect(cancelled?.text).toContain("will be refunded");
  });

  it("answers a malformed notification with 400 and YooKassa delivers it again", async () => {
    const response = await fetch(`${functions.url}/yookassa-webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"type": "notification", "event": ',
    });
    expect(response.status).toBe(400);
    // A delivery the function refuses (non-200) is retried on YooKassa's schedule.
    await yookassa.notify("payment.succeeded", { status: "succeeded" });
    expect(yookassa.deliveries.filter((d) => d.objectId === "undefined").map((d) => d.status)).toEqual([
      400, 400, 400, 400,
    ]);
  });
});
