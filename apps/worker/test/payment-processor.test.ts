// The payment processor against a real database (every migration, the 032 triggers included) and a
// fake YooKassa over real HTTP. The processor connects as service_role, as the worker does.
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import type { QueueMessage } from "@balansity/queues";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProcessors } from "../src/build-processors.ts";
import { loadConfig } from "../src/config/load-config.ts";
import { PermanentError, RetryableError } from "../src/consumer/errors.ts";
import type { Processor, ProcessorContext } from "../src/consumer/processor.ts";
import { PaymentProcessor } from "../src/payments/payment-processor.ts";
import { YooKassaClient } from "../src/payments/yookassa-client.ts";

let db: TestDatabase;
let admin: pg.Pool;
let pool: pg.Pool;
let yookassa: YooKassaStandIn;
let processor: PaymentProcessor;

const silent = pino({ level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  pool = new pg.Pool({ connectionString: db.url, max: 4, options: "-c role=service_role" });
  yookassa = await startYooKassaStandIn();
  processor = new PaymentProcessor({ pool, provider: client() });
});

afterAll(async () => {
  await yookassa?.close();
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

function client(timeoutMs = 2_000) {
  return new YooKassaClient({
    apiUrl: yookassa.apiUrl,
    shopId: yookassa.shopId,
    secretKey: yookassa.secretKey,
    timeoutMs,
  });
}

function context(attempt = 1): ProcessorContext {
  return {
    queue: "payment_processing_queue",
    msgId: String(attempt),
    attempt,
    enqueuedAt: new Date(),
    logger: silent,
    signal: new AbortController().signal,
  };
}

function message(
  paymentId: string,
  action: QueueMessage<"payment_processing_queue">["action"],
): QueueMessage<"payment_processing_queue"> {
  return {
    version: 1,
    idempotency_key: `${action}:${paymentId}:${randomUUID()}`,
    payment_id: paymentId,
    action,
  };
}

interface Fixture {
  readonly userId: string;
  readonly appointmentId: string;
  readonly paymentId: string;
}

/** A user, a future appointment, and a pending payment for it (amount 1500.00 RUB unless told). */
async function fixture(
  options: { providerPaymentId?: string | null; amount?: string } = {},
): Promise<Fixture> {
  const userId = randomUUID();
  const appointmentId = randomUUID();
  const paymentId = randomUUID();
  await admin.query(
    `insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{"full_name": "Анна", "locale": "ru"}')`,
    [userId, `user-${userId.slice(0, 8)}@example.com`],
  );
  await admin.query(
    `insert into public.appointments (id, user_id, specialist_name, starts_at, ends_at, price_amount)
     values ($1, $2, 'Specialist', now() + interval '2 days', now() + interval '2 days 1 hour', $3)`,
    [appointmentId, userId, options.amount ?? "1500.00"],
  );
  await admin.query(
    `insert into public.payments (id, user_id, appointment_id, amount, currency, provider, provider_payment_id)
     values ($1, $2, $3, $4, 'RUB', 'yookassa', $5)`,
    [
      paymentId,
      userId,
      appointmentId,
      options.amount ?? "1500.00",
      options.providerPaymentId === undefined ? randomUUID() : options.providerPaymentId,
    ],
  );
  return { userId, appointmentId, paymentId };
}

async function paymentRow(paymentId: string) {
  const { rows } = await admin.query<{
    status: string;
    failure_reason: string | null;
    payment_status: string;
  }>(
    `select p.status, p.failure_reason, a.payment_status
       from public.payments p left join public.appointments a on a.id = p.appointment_id
      where p.id = $1`,
    [paymentId],
  );
  return rows[0];
}

/** Messages in email_queue with this idempotency key. */
async function emails(key: string) {
  const { rows } = await admin.query<{ message: Record<string, unknown> }>(
    "select message from pgmq.q_email_queue where message ->> 'idempotency_key' = $1",
    [key],
  );
  return rows.map((row) => row.message);
}

async function events(key: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pgmq.q_analytics_queue where message ->> 'idempotency_key' = $1",
    [key],
  );
  return rows[0]?.n ?? 0;
}

async function providerPaymentIdOf(paymentId: string): Promise<string> {
  const { rows } = await admin.query<{ provider_payment_id: string }>(
    "select provider_payment_id from public.payments where id = $1",
    [paymentId],
  );
  const id = rows[0]?.provider_payment_id;
  if (!id) throw new Error(`payment ${paymentId} has no provider_payment_id`);
  return id;
}

/** The fixture's payment at the fake provider with this status (and anything else overridden). */
async function atProvider(f: Fixture, fields: Parameters<YooKassaStandIn["putPayment"]>[0]) {
  return yookassa.putPayment({ id: await providerPaymentIdOf(f.paymentId), ...fields });
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the processor to fail");
}

describe("verify", () => {
  it("a succeeded payment becomes completed; the trigger marks the appointment paid and queues one email", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded", captured_at: new Date().toISOString() });

    await processor.process(message(f.paymentId, "verify"), context());

    expect(await paymentRow(f.paymentId)).toEqual({
      status: "completed",
      failure_reason: null,
      payment_status: "paid",
    });
    const queued = await emails(`payment_succeeded:${f.paymentId}`);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({
      template: "payment_succeeded",
      variables: { amount: 1500, currency: "RUB" },
    });
    expect(await events(`analytics:payment_completed:${f.paymentId}`)).toBe(1);
  });

  it("a canceled payment becomes failed with the provider's cancellation reason", async () => {
    const f = await fixture();
    await atProvider(f, {
      status: "canceled",
      paid: false,
      cancellation_details: { party: "payment_network", reason: "insufficient_funds" },
    });

    await processor.process(message(f.paymentId, "verify"), context());

    expect(await paymentRow(f.paymentId)).toEqual({
      status: "failed",
      failure_reason: "insufficient_funds",
      payment_status: "unpaid",
    });
    const queued = await emails(`payment_failed:${f.paymentId}`);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ variables: { failure_reason: "insufficient_funds" } });
  });

  it.each(["pending", "waiting_for_capture"] as const)(
    "a %s payment is retried later (RetryableError payment_pending) and stays pending",
    async (status) => {
      const f = await fixture();
      await atProvider(f, { status });

      const error = await rejection(processor.process(message(f.paymentId, "verify"), context()));

      expect(error).toBeInstanceOf(RetryableError);
      expect(error.code).toBe("payment_pending");
      expect(await paymentRow(f.paymentId)).toMatchObject({ status: "pending", payment_status: "unpaid" });
      expect(await emails(`payment_succeeded:${f.paymentId}`)).toHaveLength(0);
    },
  );

  it("a payment YooKassa does not know: PermanentError payment_not_found", async () => {
    const f = await fixture();

    const error = await rejection(processor.process(message(f.paymentId, "verify"), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("payment_not_found");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");
  });

  it("YooKassa answering 500: RetryableError provider_unavailable, then success on the next attempt", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });
    yookassa.failNext({ kind: "status", status: 500 });

    const error = await rejection(processor.process(message(f.paymentId, "verify"), context(1)));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_unavailable");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");

    await processor.process(message(f.paymentId, "verify"), context(2));
    expect((await paymentRow(f.paymentId))?.status).toBe("completed");
  });

  it("YooKassa answering 401 (wrong credentials): RetryableError provider_auth", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });
    const misconfigured = new PaymentProcessor({
      pool,
      provider: new YooKassaClient({ apiUrl: yookassa.apiUrl, shopId: yookassa.shopId, secretKey: "wrong" }),
    });

    const error = await rejection(misconfigured.process(message(f.paymentId, "verify"), context()));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_auth");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");
  });

  it("YooKassa too slow: RetryableError provider_unavailable, nothing changed", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });
    yookassa.failNext({ kind: "slow", delayMs: 3_000 });
    const impatient = new PaymentProcessor({ pool, provider: client(100) });

    const error = await rejection(impatient.process(message(f.paymentId, "verify"), context()));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_unavailable");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");
  });

  it.each([
    { what: "amount", remote: { value: "1400.00", currency: "RUB" } },
    { what: "currency", remote: { value: "1500.00", currency: "USD" } },
  ])("a different $what at YooKassa: PermanentError amount_mismatch, nothing changed", async ({ remote }) => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded", amount: remote });

    const error = await rejection(processor.process(message(f.paymentId, "verify"), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("amount_mismatch");
    expect(error.message).toContain("mismatch");
    const recorded = await admin.query(
      "select reason from automation.payment_notifications where payment_id = $1 and outcome = 'refused'",
      [f.paymentId],
    );
    expect(recorded.rows.map((row) => row.reason)).toEqual([
      `${remote.currency === "RUB" ? "amount" : "currency"}_mismatch`,
    ]);
    expect(await paymentRow(f.paymentId)).toMatchObject({ status: "pending", payment_status: "unpaid" });
  });

  it("the same amount written differently (1500 vs 1500.00) is no mismatch", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded", amount: { value: "1500", currency: "RUB" } });

    await processor.process(message(f.paymentId, "verify"), context());

    expect((await paymentRow(f.paymentId))?.status).toBe("completed");
  });

  it("an already completed payment is not looked up again", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });
    await processor.process(message(f.paymentId, "verify"), context());
    const requestsBefore = yookassa.requests.length;

    await processor.process(message(f.paymentId, "verify"), context());

    expect(yookassa.requests.length).toBe(requestsBefore);
    expect(await emails(`payment_succeeded:${f.paymentId}`)).toHaveLength(1);
  });

  it("a payment without a provider_payment_id: PermanentError provider_payment_id_missing", async () => {
    const f = await fixture({ providerPaymentId: null });

    const error = await rejection(processor.process(message(f.paymentId, "verify"), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("provider_payment_id_missing");
  });
});

describe("completed and failed: hints, settled only on the provider's word", () => {
  it("completed for a payment YooKassa still has pending changes nothing (payment_pending)", async () => {
    const f = await fixture();
    await atProvider(f, { status: "pending" });

    const error = await rejection(processor.process(message(f.paymentId, "completed"), context()));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("payment_pending");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");
    expect(await emails(`payment_succeeded:${f.paymentId}`)).toHaveLength(0);
  });

  it("failed for a payment YooKassa says succeeded makes it completed, as YooKassa says", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });

    await processor.process(message(f.paymentId, "failed"), context());

    expect((await paymentRow(f.paymentId))?.status).toBe("completed");
    expect(await emails(`payment_failed:${f.paymentId}`)).toHaveLength(0);
  });

  it("completed twice: one status change, one email, one event", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });

    await processor.process(message(f.paymentId, "completed"), context());
    await processor.process(message(f.paymentId, "completed"), context());

    expect(await paymentRow(f.paymentId)).toEqual({
      status: "completed",
      failure_reason: null,
      payment_status: "paid",
    });
    expect(await emails(`payment_succeeded:${f.paymentId}`)).toHaveLength(1);
    expect(await events(`analytics:payment_completed:${f.paymentId}`)).toBe(1);
  });

  it("two workers completing the same payment at once change it once (the row is locked)", async () => {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });

    await Promise.all(
      Array.from({ length: 4 }, () => processor.process(message(f.paymentId, "completed"), context())),
    );

    expect((await paymentRow(f.paymentId))?.status).toBe("completed");
    expect(await emails(`payment_succeeded:${f.paymentId}`)).toHaveLength(1);
  });

  it.each(["verify", "completed", "failed", "refund"] as const)(
    "%s for a payment id that does not exist: PermanentError payment_not_found",
    async (action) => {
      const error = await rejection(processor.process(message(randomUUID(), action), context()));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe("payment_not_found");
    },
  );
});

describe("refund", () => {
  async function completed(): Promise<Fixture> {
    const f = await fixture();
    await atProvider(f, { status: "succeeded" });
    await processor.process(message(f.paymentId, "verify"), context());
    return f;
  }

  it("asks YooKassa for a full refund with an Idempotence-Key and marks the payment refunded, once", async () => {
    const f = await completed();
    const refund = { ...message(f.paymentId, "refund"), idempotency_key: `refund:${f.paymentId}` };

    await processor.process(refund, context());
    await processor.process(refund, context(2));

    const providerId = await providerPaymentIdOf(f.paymentId);
    const made = yookassa.refunds.filter((r) => r.payment_id === providerId);
    expect(made).toHaveLength(1);
    expect(made[0]?.amount).toEqual({ value: "1500.00", currency: "RUB" });
    const posts = yookassa.requests.filter((r) => r.method === "POST" && r.path === "/v3/refunds");
    expect(posts.at(-1)?.idempotenceKey).toBe(`refund:${f.paymentId}`);
    expect(await paymentRow(f.paymentId)).toMatchObject({ status: "refunded", payment_status: "refunded" });
    expect(await emails(`payment_refunded:${f.paymentId}`)).toHaveLength(1);
  });

  it("a retried refund message (the first answer lost) reuses the key: YooKassa refunds once", async () => {
    const f = await completed();
    const refund = { ...message(f.paymentId, "refund"), idempotency_key: `refund:${f.paymentId}:lost` };
    await processor.process(refund, context());
    // As if the answer had been lost: the row goes back and the same message comes again.
    await admin.query("update public.payments set status = 'completed' where id = $1", [f.paymentId]);
    await processor.process(refund, context(2)).catch(() => undefined);

    const providerId = await providerPaymentIdOf(f.paymentId);
    expect(yookassa.refunds.filter((r) => r.payment_id === providerId)).toHaveLength(1);
  });

  it("refuses to refund a payment that is not completed", async () => {
    const f = await fixture();
    const refundsBefore = yookassa.refunds.length;
    const error = await rejection(processor.process(message(f.paymentId, "refund"), context()));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("payment_not_refundable");
    expect(yookassa.refunds.length).toBe(refundsBefore);
  });
});

describe("buildProcessors without YooKassa credentials", () => {
  it("registers the payment processor; every action is retried (provider_not_configured), nothing settled; one warning", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({
      DATABASE_URL: db.url,
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: "2525",
      SMTP_SECURE: "none",
      SMTP_FROM: "noreply@balansity.ru",
    });
    const processors = await buildProcessors({ config, pool, logger });
    const payments = processors.find(
      (p): p is Processor<"payment_processing_queue"> => p.queue === "payment_processing_queue",
    );
    if (!payments) throw new Error("no payment processor");
    const f = await fixture();

    const error = await rejection(payments.process(message(f.paymentId, "verify"), context()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_not_configured");
    expect(error.message).toContain("PAYMENT_SHOP_ID");
    await payments.process(message(f.paymentId, "verify"), context(2)).catch(() => undefined);

    const completed = await rejection(payments.process(message(f.paymentId, "completed"), context()));
    expect(completed.code).toBe("provider_not_configured");
    expect((await paymentRow(f.paymentId))?.status).toBe("pending");

    const warnings = lines.filter((line) => line.includes("YooKassa is not configured"));
    expect(warnings).toHaveLength(1);
  });
});
