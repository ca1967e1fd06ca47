import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  analyticsMessageSchema,
  emailMessageSchema,
  paymentMessageSchema,
  type QueueName,
  queueNames,
} from "../src/catalog.ts";

// 048_payment_notifications.sql: apply_payment_notification follows what the provider's API says,
// once per provider event, and refuses (recording it) what does not match our payment; the
// refunded and cancelled transitions queue their emails, refunds and events.

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

beforeEach(async () => {
  for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
});

async function messages(queue: QueueName): Promise<unknown[]> {
  const { rows } = await client.query<{ message: unknown }>(
    `select message from pgmq.${pg.escapeIdentifier(`q_${queue}`)} order by msg_id`,
  );
  return rows.map((row) => row.message);
}

interface Booking {
  readonly userId: string;
  readonly email: string;
  readonly appointmentId: string;
  readonly paymentId: string;
  readonly providerPaymentId: string;
}

/** A user, a priced appointment and its pending YooKassa payment of 1500.50 RUB. */
async function book(): Promise<Booking> {
  const userId = randomUUID();
  const email = `user-${userId}@example.com`;
  const appointmentId = randomUUID();
  const paymentId = randomUUID();
  const providerPaymentId = randomUUID();
  await client.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
    userId,
    email,
    { full_name: "Анна", locale: "en" },
  ]);
  await client.query(
    `insert into public.appointments (id, user_id, specialist_name, starts_at, ends_at, price_amount, payment_status)
     values ($1, $2, 'Dr. Smirnova', now() + interval '2 days', now() + interval '2 days 1 hour', 1500.50, 'pending')`,
    [appointmentId, userId],
  );
  await client.query(
    `insert into public.payments (id, user_id, appointment_id, amount, currency, provider, provider_payment_id)
     values ($1, $2, $3, 1500.50, 'RUB', 'yookassa', $4)`,
    [paymentId, userId, appointmentId, providerPaymentId],
  );
  for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
  return { userId, email, appointmentId, paymentId, providerPaymentId };
}

function paymentObject(booking: Booking, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: booking.providerPaymentId,
    status: "succeeded",
    paid: true,
    amount: { value: "1500.50", currency: "RUB" },
    metadata: { payment_id: booking.paymentId },
    ...fields,
  };
}

async function apply(event: string, objectId: string, apiObject: unknown): Promise<Record<string, unknown>> {
  const { rows } = await client.query<{ result: Record<string, unknown> }>(
    "select public.apply_payment_notification('yookassa', $1, $2, $3) as result",
    [event, objectId, apiObject === null ? null : JSON.stringify(apiObject)],
  );
  return rows[0]?.result ?? {};
}

async function paymentStatus(paymentId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ status: string }>(
    "select status from public.payments where id = $1",
    [paymentId],
  );
  return rows[0]?.status;
}

async function appointmentPaymentStatus(appointmentId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ payment_status: string }>(
    "select payment_status from public.appointments where id = $1",
    [appointmentId],
  );
  return rows[0]?.payment_status;
}

async function refusals(objectId: string): Promise<string[]> {
  const { rows } = await client.query<{ reason: string }>(
    "select reason from automation.payment_notifications where object_id = $1 and outcome = 'refused' order by id",
    [objectId],
  );
  return rows.map((row) => row.reason);
}

async function templates(): Promise<string[]> {
  return (await messages("email_queue")).map((message) => emailMessageSchema.parse(message).template);
}

describe("apply_payment_notification", () => {
  it("completes a pending payment once, however often the same event is applied", async () => {
    const booking = await book();
    const first = await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    const second = await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    const third = await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));

    expect(first).toMatchObject({ outcome: "applied", payment_id: booking.paymentId, status: "completed" });
    expect(second).toMatchObject({ outcome: "duplicate", payment_id: booking.paymentId });
    expect(third).toMatchObject({ outcome: "duplicate" });
    expect(await paymentStatus(booking.paymentId)).toBe("completed");
    expect(await appointmentPaymentStatus(booking.appointmentId)).toBe("paid");
    expect(await templates()).toEqual(["payment_succeeded"]);
  });

  it("finds the payment by the metadata when the provider id is not attached yet", async () => {
    const booking = await book();
    await client.query("update public.payments set provider_payment_id = null where id = $1", [
      booking.paymentId,
    ]);
    const result = await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    expect(result).toMatchObject({ outcome: "applied", payment_id: booking.paymentId });
    const { rows } = await client.query("select provider_payment_id from public.payments where id = $1", [
      booking.paymentId,
    ]);
    expect(rows[0]?.provider_payment_id).toBe(booking.providerPaymentId);
  });

  it.each([
    ["not_found", (b: Booking) => ["payment.succeeded", b.providerPaymentId, null] as const],
    [
      "amount_mismatch",
      (b: Booking) =>
        [
          "payment.succeeded",
          b.providerPaymentId,
          paymentObject(b, { amount: { value: "1.00", currency: "RUB" } }),
        ] as const,
    ],
    [
      "currency_mismatch",
      (b: Booking) =>
        [
          "payment.succeeded",
          b.providerPaymentId,
          paymentObject(b, { amount: { value: "1500.50", currency: "USD" } }),
        ] as const,
    ],
    [
      "status_mismatch",
      (b: Booking) =>
        [
          "payment.succeeded",
          b.providerPaymentId,
          paymentObject(b, { status: "pending", paid: false }),
        ] as const,
    ],
    [
      "id_mismatch",
      (b: Booking) =>
        ["payment.succeeded", b.providerPaymentId, paymentObject(b, { id: randomUUID() })] as const,
    ],
  ])("refuses and records %s, changing nothing", async (reason, args) => {
    const booking = await book();
    const [event, objectId, apiObject] = args(booking);
    expect(await apply(event, objectId, apiObject)).toMatchObject({ outcome: "refused", reason });
    expect(await paymentStatus(booking.paymentId)).toBe("pending");
    expect(await appointmentPaymentStatus(booking.appointmentId)).toBe("pending");
    expect(await refusals(booking.providerPaymentId)).toEqual([reason]);
    expect(await templates()).toEqual([]);

    // A refusal does not take the event: the genuine notification still applies.
    expect(await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking))).toMatchObject(
      {
        outcome: "applied",
      },
    );
  });

  it("refuses a payment the API knows but that is not ours", async () => {
    const booking = await book();
    const stranger = randomUUID();
    const result = await apply(
      "payment.succeeded",
      stranger,
      paymentObject(booking, { id: stranger, metadata: { payment_id: randomUUID() } }),
    );
    expect(result).toMatchObject({ outcome: "refused", reason: "unknown_payment" });
    expect(await paymentStatus(booking.paymentId)).toBe("pending");
  });

  it("fails a canceled payment with the provider's reason and makes the appointment payable again", async () => {
    const booking = await book();
    const result = await apply(
      "payment.canceled",
      booking.providerPaymentId,
      paymentObject(booking, {
        status: "canceled",
        paid: false,
        cancellation_details: { party: "payment_network", reason: "insufficient_funds" },
      }),
    );
    expect(result).toMatchObject({ outcome: "applied", status: "failed" });
    const { rows } = await client.query("select failure_reason from public.payments where id = $1", [
      booking.paymentId,
    ]);
    expect(rows[0]?.failure_reason).toBe("insufficient_funds");
    expect(await appointmentPaymentStatus(booking.appointmentId)).toBe("unpaid");
    expect(await templates()).toEqual(["payment_failed"]);
  });

  it("ignores waiting_for_capture (payments are created with capture)", async () => {
    const booking = await book();
    const result = await apply(
      "payment.waiting_for_capture",
      booking.providerPaymentId,
      paymentObject(booking, { status: "waiting_for_capture" }),
    );
    expect(result).toMatchObject({ outcome: "ignored" });
    expect(await paymentStatus(booking.paymentId)).toBe("pending");
  });

  it("refunds a completed payment once, with the refund email", async () => {
    const booking = await book();
    await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
    const refundId = randomUUID();
    const refund = {
      id: refundId,
      payment_id: booking.providerPaymentId,
      status: "succeeded",
      amount: { value: "1500.50", currency: "RUB" },
    };
    expect(await apply("refund.succeeded", refundId, refund)).toMatchObject({
      outcome: "applied",
      status: "refunded",
    });
    expect(await apply("refund.succeeded", refundId, refund)).toMatchObject({ outcome: "duplicate" });
    expect(await paymentStatus(booking.paymentId)).toBe("refunded");
    expect(await appointmentPaymentStatus(booking.appointmentId)).toBe("refunded");
    const [email] = await messages("email_queue");
    const parsed = emailMessageSchema.parse(email);
    expect(parsed).toMatchObject({ template: "payment_refunded", to: booking.email, locale: "en" });
    expect(emailTemplateVariableSchemas.payment_refunded.safeParse(parsed.variables).success).toBe(true);
    // A late payment.succeeded for a refunded payment changes nothing.
    expect(await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking))).toMatchObject(
      { outcome: "duplicate" },
    );
  });

  it("refuses a refund of a payment that is not completed", async () => {
    const booking = await book();
    const refundId = randomUUID();
    const refund = {
      id: refundId,
      payment_id: booking.providerPaymentId,
      status: "succeeded",
      amount: { value: "1500.50", currency: "RUB" },
    };
    expect(await apply("refund.succeeded", refundId, refund)).toMatchObject({
      outcome: "refused",
      reason: "status_conflict",
    });
    expect(await paymentStatus(booking.paymentId)).toBe("pending");
  });

  it("names the bad argument", async () => {
    await expect(apply("payment.refunded", "x", null)).rejects.toThrow(/event "payment.refunded" is unknown/);
  });

  it("is for service_role only", async () => {
    const { rows } = await client.query<{ role: string; allowed: boolean }>(
      `select role, has_function_privilege(role, 'public.apply_payment_notification(text, text, text, jsonb)', 'execute') as allowed
       from unnest(array['anon', 'authenticated', 'service_role']) as role`,
    );
    expect(Object.fromEntries(rows.map((row) => [row.role, row.allowed]))).toEqual({
      anon: false,
      authenticated: false,
      service_role: true,
    });
  });
});

describe("on_appointment_cancelled", () => {
  it("queues the cancellation email, a refund of the completed payment and the event", async () => {
    const booking = await book();
    await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);

    await client.query("update public.appointments set status = 'cancelled' where id = $1", [
      booking.appointmentId,
    ]);

    const email = emailMessageSchema.parse((await messages("email_queue"))[0]);
    expect(email).toMatchObject({ template: "appointment_cancelled", to: booking.email, priority: 1 });
    expect(emailTemplateVariableSchemas.appointment_cancelled.parse(email.variables)).toMatchObject({
      appointment_id: booking.appointmentId,
      refund_requested: true,
    });
    expect((await messages("payment_processing_queue")).map((m) => paymentMessageSchema.parse(m))).toEqual([
      {
        version: 1,
        idempotency_key: `refund:${booking.paymentId}`,
        payment_id: booking.paymentId,
        action: "refund",
      },
    ]);
    const events = (await messages("analytics_queue")).map((m) => analyticsMessageSchema.parse(m).event);
    expect(events).toEqual(["appointment_cancelled"]);
  });

  it("asks for no refund when nothing was paid", async () => {
    const booking = await book();
    await client.query("update public.appointments set status = 'cancelled' where id = $1", [
      booking.appointmentId,
    ]);
    expect(await templates()).toEqual(["appointment_cancelled"]);
    expect(await messages("payment_processing_queue")).toEqual([]);
  });

  it("refunds a payment that succeeds after its appointment was cancelled", async () => {
    const booking = await book();
    await client.query("update public.appointments set status = 'cancelled' where id = $1", [
      booking.appointmentId,
    ]);
    await apply("payment.succeeded", booking.providerPaymentId, paymentObject(booking));
    const jobs = (await messages("payment_processing_queue")).map(
      (m) => paymentMessageSchema.parse(m).action,
    );
    expect(jobs).toEqual(["refund"]);
  });
});

describe("report_requested and email_sent", () => {
  it("emits email_sent when a delivery is recorded as sent, without the address", async () => {
    await client.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, sent_at)
       values ('k-1', 1, 'payment_succeeded', 'someone@example.com', 'sending', null)`,
    );
    expect(await messages("analytics_queue")).toEqual([]);
    await client.query(
      "update automation.email_deliveries set status = 'sent', sent_at = now() where idempotency_key = 'k-1'",
    );
    const [event] = (await messages("analytics_queue")).map((m) => analyticsMessageSchema.parse(m));
    expect(event).toMatchObject({ event: "email_sent", properties: { template: "payment_succeeded" } });
    expect(JSON.stringify(event)).not.toContain("someone@example.com");
  });

  it("emits report_requested when a user asks for a report", async () => {
    const booking = await book();
    const assessmentId = randomUUID();
    await client.query(
      "insert into public.assessments (id, user_id, kind, title) values ($1, $2, 'wellbeing', 't')",
      [assessmentId, booking.userId],
    );
    await client.query(
      "insert into automation.report_requests (user_id, assessment_id, msg_id) values ($1, $2, 1)",
      [booking.userId, assessmentId],
    );
    const events = (await messages("analytics_queue")).map((m) => analyticsMessageSchema.parse(m).event);
    expect(events).toEqual(["report_requested"]);
  });
});
