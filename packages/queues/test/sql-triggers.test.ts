import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  analyticsMessageSchema,
  emailMessageSchema,
  type QueueName,
  queueNames,
  reportMessageSchema,
} from "../src/catalog.ts";

// The "database webhooks" of supabase/migrations/032_webhook_triggers.sql: each fires on its real
// transition only, queues messages that parse with the catalog (and, for emails, with the
// template's variable schema), in the same transaction as the change.

let db: TestDatabase;
let client: pg.Client;
let warnings: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on("notice", (notice) => {
    if (notice.severity === "WARNING") warnings.push(notice.message ?? "");
  });
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

beforeEach(async () => {
  warnings = [];
  for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
});

async function messages(queue: QueueName): Promise<unknown[]> {
  const { rows } = await client.query<{ message: unknown }>(
    `select message from pgmq.${pg.escapeIdentifier(`q_${queue}`)} order by msg_id`,
  );
  return rows.map((row) => row.message);
}

const NOTHING: Record<QueueName, number> = {
  email_queue: 0,
  report_generation_queue: 0,
  payment_processing_queue: 0,
  analytics_queue: 0,
};

async function counts(): Promise<Record<QueueName, number>> {
  const result = { ...NOTHING };
  for (const queue of queueNames) result[queue] = (await messages(queue)).length;
  return result;
}

/** The one message of a queue (fails when there is not exactly one). */
async function only(queue: QueueName): Promise<unknown> {
  const all = await messages(queue);
  expect(all, `messages in ${queue}`).toHaveLength(1);
  return all[0];
}

interface User {
  readonly id: string;
  readonly email: string;
}

async function createUser(email = `user-${randomUUID()}@example.com`): Promise<User> {
  const id = randomUUID();
  await client.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
    id,
    email,
    { full_name: "Анна Иванова", locale: "en", timezone: "Asia/Yekaterinburg" },
  ]);
  return { id, email };
}

async function createAssessment(user: User, title: string | null = "Wellbeing checkup"): Promise<string> {
  const id = randomUUID();
  await client.query(
    "insert into public.assessments (id, user_id, kind, title) values ($1, $2, 'wellbeing', $3)",
    [id, user.id, title],
  );
  return id;
}

async function createAppointment(user: User, status = "scheduled"): Promise<string> {
  const id = randomUUID();
  await client.query(
    `insert into public.appointments (id, user_id, specialist_name, starts_at, ends_at, status, meeting_url)
     values ($1, $2, 'Dr. Elena Smirnova', now() + interval '2 days', now() + interval '2 days 1 hour', $3,
             'https://meet.example.com/room-1')`,
    [id, user.id, status],
  );
  return id;
}

async function createPayment(user: User | null, appointmentId: string | null): Promise<string> {
  const id = randomUUID();
  await client.query(
    `insert into public.payments (id, user_id, appointment_id, amount, currency, provider)
     values ($1, $2, $3, 1500.50, 'RUB', 'yookassa')`,
    [id, user?.id ?? null, appointmentId],
  );
  return id;
}

async function purge(): Promise<void> {
  for (const queue of queueNames) await client.query("select pgmq.purge_queue($1)", [queue]);
}

describe("on_checkup_completed", () => {
  it("queues the report, the email to the owner and the event when a checkup is completed", async () => {
    const user = await createUser();
    const assessmentId = await createAssessment(user);
    await client.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
    const { rows } = await client.query<{ completed_at: Date }>(
      "select completed_at from public.assessments where id = $1",
      [assessmentId],
    );
    const completedAt = rows[0]?.completed_at as Date;

    expect(reportMessageSchema.parse(await only("report_generation_queue"))).toEqual({
      version: 1,
      idempotency_key: `report:${assessmentId}:pdf`,
      assessment_id: assessmentId,
      user_id: user.id,
      report_type: "pdf",
      requested_by: "trigger",
    });

    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email).toMatchObject({
      idempotency_key: `checkup_completed:${assessmentId}`,
      to: user.email,
      template: "checkup_completed",
      locale: "en",
      timezone: "Asia/Yekaterinburg",
      priority: 0,
      user_id: user.id,
    });
    const variables = emailTemplateVariableSchemas.checkup_completed.parse(email.variables);
    expect(variables).toMatchObject({
      user_name: "Анна Иванова",
      assessment_id: assessmentId,
      assessment_title: "Wellbeing checkup",
    });
    expect(Date.parse(variables.completed_at as string)).toBe(completedAt.getTime());

    const event = analyticsMessageSchema.parse(await only("analytics_queue"));
    expect(event).toMatchObject({
      event: "checkup_completed",
      entity_id: assessmentId,
      user_id: user.id,
      idempotency_key: `analytics:checkup_completed:${assessmentId}`,
      properties: { kind: "wellbeing" },
    });
    expect(Date.parse(event.occurred_at)).toBe(completedAt.getTime());
    expect(warnings).toEqual([]);
  });

  it("leaves an untitled checkup's title null, which the template accepts", async () => {
    const assessmentId = await createAssessment(await createUser(), null);
    await client.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email.variables).toMatchObject({ assessment_title: null });
    emailTemplateVariableSchemas.checkup_completed.parse(email.variables);
  });

  it("does not fire for an update that leaves the status alone", async () => {
    const assessmentId = await createAssessment(await createUser());
    await client.query(
      "update public.assessments set title = 'Renamed', answers = '{\"q1\": 3}' where id = $1",
      [assessmentId],
    );
    await client.query("update public.assessments set status = 'in_progress' where id = $1", [assessmentId]);
    expect(await counts()).toEqual(NOTHING);
  });

  it("does not fire again for an update of a checkup that is already completed", async () => {
    const assessmentId = await createAssessment(await createUser());
    await client.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
    await purge();
    await client.query("update public.assessments set status = 'completed', title = 'Again' where id = $1", [
      assessmentId,
    ]);
    expect(await counts()).toEqual(NOTHING);
  });

  it("does not fire for in_progress -> abandoned", async () => {
    const assessmentId = await createAssessment(await createUser());
    await client.query("update public.assessments set status = 'abandoned' where id = $1", [assessmentId]);
    expect(await counts()).toEqual(NOTHING);
  });

  it("queues nothing when the completing transaction rolls back", async () => {
    const assessmentId = await createAssessment(await createUser());
    await client.query("begin");
    try {
      await client.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
      // Inside the transaction the messages are there, beside the change ...
      expect(await counts()).toEqual({
        ...NOTHING,
        email_queue: 1,
        report_generation_queue: 1,
        analytics_queue: 1,
      });
    } finally {
      await client.query("rollback");
    }
    // ... and they go with it.
    expect(await counts()).toEqual(NOTHING);
  });

  it("works when the owner completes the checkup through PostgREST (authenticated, no pgmq rights)", async () => {
    const user = await createUser();
    const assessmentId = await createAssessment(user);
    await client.query("begin");
    try {
      await client.query("set local role authenticated");
      await client.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: user.id, role: "authenticated" }),
      ]);
      const updated = await client.query("update public.assessments set status = 'completed' where id = $1", [
        assessmentId,
      ]);
      expect(updated.rowCount).toBe(1);
      // The same user reaching for the queue directly is refused.
      await client.query("savepoint direct");
      await expect(client.query("select count(*) from pgmq.q_email_queue")).rejects.toThrow(
        "permission denied for schema pgmq",
      );
      await client.query("rollback to savepoint direct");
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
    expect(await counts()).toEqual({
      ...NOTHING,
      email_queue: 1,
      report_generation_queue: 1,
      analytics_queue: 1,
    });
    expect(emailMessageSchema.parse(await only("email_queue")).to).toBe(user.email);
  });

  it("skips the email with a warning when the owner's address is one the email queue refuses", async () => {
    // The profile accepts user@host; the email queue (zod's email rule) needs a domain with a TLD.
    const user = await createUser(`anna-${randomUUID().slice(0, 8)}@localhost`);
    const assessmentId = await createAssessment(user);
    await client.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
    expect(await counts()).toEqual({ ...NOTHING, report_generation_queue: 1, analytics_queue: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`no checkup_completed email for assessment ${assessmentId}`);
    expect(warnings[0]).not.toContain("@localhost");
  });
});

describe("on_new_appointment", () => {
  it("queues the confirmation email and the event for a booking", async () => {
    const user = await createUser();
    const appointmentId = await createAppointment(user);
    const { rows } = await client.query<{ starts_at: Date; ends_at: Date }>(
      "select starts_at, ends_at from public.appointments where id = $1",
      [appointmentId],
    );
    const row = rows[0] as { starts_at: Date; ends_at: Date };

    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email).toMatchObject({
      idempotency_key: `appointment_confirmation:${appointmentId}`,
      to: user.email,
      template: "appointment_confirmation",
      locale: "en",
      timezone: "Asia/Yekaterinburg",
      priority: 1,
      user_id: user.id,
    });
    const variables = emailTemplateVariableSchemas.appointment_confirmation.parse(email.variables);
    expect(variables).toMatchObject({
      user_name: "Анна Иванова",
      appointment_id: appointmentId,
      consultant_name: "Dr. Elena Smirnova",
      meeting_url: "https://meet.example.com/room-1",
    });
    expect(Date.parse(variables.starts_at)).toBe(row.starts_at.getTime());
    expect(Date.parse(variables.ends_at as string)).toBe(row.ends_at.getTime());

    expect(analyticsMessageSchema.parse(await only("analytics_queue"))).toMatchObject({
      event: "appointment_booked",
      entity_id: appointmentId,
      user_id: user.id,
      idempotency_key: `analytics:appointment_booked:${appointmentId}`,
    });
  });

  it("does not fire for an appointment inserted as cancelled", async () => {
    await createAppointment(await createUser(), "cancelled");
    expect(await counts()).toEqual(NOTHING);
  });

  it("does not fire for later updates of the appointment", async () => {
    const appointmentId = await createAppointment(await createUser());
    await purge();
    // A cancellation has a trigger of its own (048, tested in sql-payment-notifications.test.ts).
    await client.query("update public.appointments set status = 'in_progress' where id = $1", [
      appointmentId,
    ]);
    expect(await counts()).toEqual(NOTHING);
  });

  it("works when the user books through PostgREST (authenticated)", async () => {
    const user = await createUser();
    await client.query("begin");
    try {
      await client.query("set local role authenticated");
      await client.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: user.id, role: "authenticated" }),
      ]);
      await client.query(
        `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
         values ($1, 'Dr. Elena Smirnova', now() + interval '1 day', now() + interval '1 day 1 hour')`,
        [user.id],
      );
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email.variables).toMatchObject({ meeting_url: null });
    emailTemplateVariableSchemas.appointment_confirmation.parse(email.variables);
  });

  it("queues nothing when the booking rolls back", async () => {
    const user = await createUser();
    await client.query("begin");
    await createAppointment(user);
    await client.query("rollback");
    expect(await counts()).toEqual(NOTHING);
  });
});

describe("on_payment_status_change", () => {
  async function appointmentState(id: string): Promise<{ status: string; payment_status: string }> {
    const { rows } = await client.query<{ status: string; payment_status: string }>(
      "select status, payment_status from public.appointments where id = $1",
      [id],
    );
    return rows[0] as { status: string; payment_status: string };
  }

  it("on completed: emails payment_succeeded, marks the appointment paid and queues payment_completed", async () => {
    const user = await createUser();
    const appointmentId = await createAppointment(user);
    const paymentId = await createPayment(user, appointmentId);
    await purge();
    await client.query("update public.payments set status = 'completed' where id = $1", [paymentId]);

    expect(await appointmentState(appointmentId)).toEqual({ status: "scheduled", payment_status: "paid" });

    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email).toMatchObject({
      idempotency_key: `payment_succeeded:${paymentId}`,
      to: user.email,
      template: "payment_succeeded",
      priority: 1,
      user_id: user.id,
    });
    const variables = emailTemplateVariableSchemas.payment_succeeded.parse(email.variables);
    expect(variables).toMatchObject({ payment_id: paymentId, amount: 1500.5, currency: "RUB" });
    expect(Number.isNaN(Date.parse(variables.paid_at as string))).toBe(false);

    expect(analyticsMessageSchema.parse(await only("analytics_queue"))).toMatchObject({
      event: "payment_completed",
      entity_id: paymentId,
      user_id: user.id,
      idempotency_key: `analytics:payment_completed:${paymentId}`,
      properties: { appointment_id: appointmentId, amount: 1500.5, currency: "RUB", provider: "yookassa" },
    });
    expect(await messages("payment_processing_queue")).toEqual([]);
  });

  it("on failed: emails payment_failed with the reason and queues payment_failed; the appointment stays unpaid", async () => {
    const user = await createUser();
    const appointmentId = await createAppointment(user);
    const paymentId = await createPayment(user, appointmentId);
    await purge();
    await client.query(
      "update public.payments set status = 'failed', failure_reason = 'Card declined' where id = $1",
      [paymentId],
    );

    expect(await appointmentState(appointmentId)).toEqual({ status: "scheduled", payment_status: "unpaid" });
    const email = emailMessageSchema.parse(await only("email_queue"));
    expect(email).toMatchObject({
      template: "payment_failed",
      idempotency_key: `payment_failed:${paymentId}`,
    });
    expect(emailTemplateVariableSchemas.payment_failed.parse(email.variables)).toMatchObject({
      payment_id: paymentId,
      amount: 1500.5,
      currency: "RUB",
      failure_reason: "Card declined",
    });
    expect(analyticsMessageSchema.parse(await only("analytics_queue")).event).toBe("payment_failed");
  });

  it("does not fire for pending -> pending or for other column changes", async () => {
    const user = await createUser();
    const paymentId = await createPayment(user, await createAppointment(user));
    await purge();
    await client.query("update public.payments set status = 'pending' where id = $1", [paymentId]);
    await client.query("update public.payments set provider_payment_id = 'pay_123' where id = $1", [
      paymentId,
    ]);
    expect(await counts()).toEqual(NOTHING);
  });

  it("queues only the refund email (048's on_payment_reversed) for completed -> refunded", async () => {
    const user = await createUser();
    const paymentId = await createPayment(user, await createAppointment(user));
    await client.query("update public.payments set status = 'completed' where id = $1", [paymentId]);
    await purge();
    await client.query("update public.payments set status = 'refunded' where id = $1", [paymentId]);
    expect(await counts()).toEqual({ ...NOTHING, email_queue: 1 });
    expect(emailMessageSchema.parse(await only("email_queue")).template).toBe("payment_refunded");
  });

  it("rolls back the messages and the paid mark with the payment change", async () => {
    const user = await createUser();
    const appointmentId = await createAppointment(user);
    const paymentId = await createPayment(user, appointmentId);
    await purge();
    await client.query("begin");
    await client.query("update public.payments set status = 'completed' where id = $1", [paymentId]);
    await client.query("rollback");
    expect(await counts()).toEqual(NOTHING);
    expect(await appointmentState(appointmentId)).toEqual({ status: "scheduled", payment_status: "unpaid" });
  });

  it("for a payer without a profile (deleted user): warns, skips the email, still marks paid and tracks", async () => {
    const user = await createUser();
    const appointmentId = await createAppointment(user);
    const paymentId = await createPayment(null, appointmentId);
    await purge();
    await client.query("update public.payments set status = 'completed' where id = $1", [paymentId]);

    expect(await appointmentState(appointmentId)).toEqual({ status: "scheduled", payment_status: "paid" });
    expect(await counts()).toEqual({ ...NOTHING, analytics_queue: 1 });
    expect(analyticsMessageSchema.parse(await only("analytics_queue"))).toMatchObject({
      event: "payment_completed",
      user_id: null,
    });
    expect(warnings).toEqual([
      `handle_payment_status_change: no payment_succeeded email for payment ${paymentId}: user (deleted) has no profile`,
    ]);
  });

  it("a completed payment without an appointment only emails and tracks", async () => {
    const user = await createUser();
    const paymentId = await createPayment(user, null);
    await client.query("update public.payments set status = 'completed' where id = $1", [paymentId]);
    expect(await counts()).toEqual({ ...NOTHING, email_queue: 1, analytics_queue: 1 });
  });
});
