// The seed-era backlog: messages the hand-applied helpers, triggers and frontend queued before this
// worker existed, in their shapes (no version, no idempotency_key, thin variables, any priority),
// some already read by an earlier consumer. The real worker, a real database, a real SMTP sink.
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { createUser, deadLetters, queueLength, sendRaw } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

const queues = ["email_queue", "report_generation_queue", "payment_processing_queue", "analytics_queue"];
// Two attempts only: a message read three times by someone else would be dead-lettered at once if
// those reads counted.
const env: Record<string, string> = {
  QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "2",
  QUEUE_REPORT_GENERATION_QUEUE_MAX_ATTEMPTS: "2",
  QUEUE_PAYMENT_PROCESSING_QUEUE_MAX_ATTEMPTS: "2",
  QUEUE_ANALYTICS_QUEUE_MAX_ATTEMPTS: "2",
};

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;
// The worker settles a payment on the provider's word only: YooKassa's stand-in answers for it.
let yookassa: YooKassaStandIn;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  yookassa = await startYooKassaStandIn();
  env.PAYMENT_API_URL = yookassa.apiUrl;
  env.PAYMENT_SHOP_ID = yookassa.shopId;
  env.PAYMENT_SECRET_KEY = yookassa.secretKey;
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await yookassa?.close();
  await pool?.end();
  await db?.drop();
});

/** The domain rows the backlog talks about; what our own triggers queued for them is purged. */
async function seedDomain() {
  const ivan = await createUser(pool, { locale: "ru", fullName: "Иван", timezone: "Europe/Moscow" });
  const jane = await createUser(pool, { locale: "en", fullName: "Jane", timezone: "Europe/London" });
  const checkup = async (userId: string, title: string) => {
    const { rows } = await pool.query<{ id: string }>(
      `insert into public.assessments (user_id, kind, title, status, answers)
       values ($1, 'wellbeing', $2, 'completed', '{"q1":4,"q2":4,"q3":3,"q4":3,"q5":5,"q6":5}') returning id`,
      [userId, title],
    );
    return rows[0]!.id;
  };
  const ivanCheckup = await checkup(ivan.id, "Баланс жизни");
  const janeCheckup = await checkup(jane.id, "Life balance");
  const { rows: appointments } = await pool.query<{ id: string }>(
    `insert into public.appointments (user_id, specialist_name, starts_at, ends_at, price_amount)
     values ($1, 'Мария Иванова', '2030-11-25T12:00:00Z', '2030-11-25T13:00:00Z', 4500) returning id`,
    [ivan.id],
  );
  const appointment = appointments[0]!.id;
  const { rows: payments } = await pool.query<{ id: string }>(
    `insert into public.payments (user_id, appointment_id, amount, currency, provider, provider_payment_id)
     values ($1, $2, 4500, 'RUB', 'yookassa', 'p-' || gen_random_uuid()),
            ($1, $2, 4500, 'RUB', 'yookassa', 'p-' || gen_random_uuid())
     returning id`,
    [ivan.id, appointment],
  );
  // The completed payment the seed-era trigger emailed about.
  await pool.query("update public.payments set status = 'completed' where id = $1", [payments[0]!.id]);
  // The pending one was cancelled at the provider: the seed-era `failed` job is the hint to ask.
  const { rows: pending } = await pool.query<{ provider_payment_id: string }>(
    "select provider_payment_id from public.payments where id = $1",
    [payments[1]!.id],
  );
  yookassa.putPayment({
    id: pending[0]!.provider_payment_id,
    status: "canceled",
    amount: { value: "4500.00", currency: "RUB" },
    cancellation_details: { party: "payment_network", reason: "insufficient_funds" },
    metadata: { payment_id: payments[1]!.id },
  });
  for (const queue of queues) await pool.query("select pgmq.purge_queue($1)", [queue]);
  return {
    ivan,
    jane,
    ivanCheckup,
    janeCheckup,
    appointment,
    paid: payments[0]!.id,
    pending: payments[1]!.id,
  };
}

async function readByEarlierConsumer(queue: string, times: number) {
  for (let read = 0; read < times; read += 1)
    await pool.query("select * from pgmq.read($1, 0, 100)", [queue]);
}

async function deadLetterCount(): Promise<number> {
  let total = 0;
  for (const queue of queues) total += (await deadLetters(pool, queue)).length;
  return total;
}

describe("the seed-era backlog", () => {
  let domain: Awaited<ReturnType<typeof seedDomain>>;
  const legacyEmailIds: number[] = [];

  it("delivers every email once, renders the report, settles the payment and counts the events, with 0 dead letters", async () => {
    domain = await seedDomain();
    const { ivan, jane } = domain;
    const email = (to: string, template: string, variables: Record<string, unknown>, priority = 0) =>
      sendRaw(pool, "email_queue", { to, subject: "Тема письма", template, variables, priority });
    legacyEmailIds.push(
      await email(ivan.email, "checkup_completed", { assessment_id: domain.ivanCheckup }),
      await email(ivan.email, "appointment_confirmation", { appointment_id: domain.appointment }, 5),
      await email(
        ivan.email,
        "appointment_reminder",
        { appointment_id: domain.appointment, hours_before: 24 },
        10,
      ),
      await email(ivan.email, "payment_confirmation", { payment_id: domain.paid }),
      // The seed-era frontend: a name and nothing else; it becomes a report of Jane's latest checkup.
      await email(jane.email, "report_ready", { name: "Иван" }),
    );
    await sendRaw(pool, "report_generation_queue", {
      assessment_id: domain.ivanCheckup,
      user_id: ivan.id,
      report_type: "pdf",
    });
    await sendRaw(pool, "payment_processing_queue", { payment_id: domain.pending, action: "failed" });
    await sendRaw(pool, "analytics_queue", {
      event_type: "checkup_completed",
      user_id: ivan.id,
      assessment_id: domain.ivanCheckup,
      timestamp: "2026-11-20T10:00:00Z",
    });
    await sendRaw(pool, "analytics_queue", { event: "appointment_created", user_id: ivan.id });
    // An earlier consumer (the seed-era Edge Function, a read by hand) read some of them three times.
    await readByEarlierConsumer("email_queue", 3);
    await readByEarlierConsumer("analytics_queue", 3);
    await readByEarlierConsumer("report_generation_queue", 3);

    worker = await startTestWorker({ databaseUrl: db.url, smtpPort: smtp.smtpPort, env });

    // Ivan: checkup_completed, confirmation, 24h reminder, payment receipt, report_ready (the report
    // job), payment_failed (the failed payment's trigger). Jane: report_ready.
    const ivanMail = await smtp.waitForMessages(6, { timeoutMs: 30_000, to: ivan.email });
    const janeMail = await smtp.waitForMessages(1, { timeoutMs: 60_000, to: jane.email });
    await waitFor(
      async () => (await Promise.all(queues.map((q) => queueLength(pool, q)))).every((n) => n === 0),
      {
        timeoutMs: 30_000,
      },
    );

    const texts = ivanMail.map((mail) => mail.text ?? "");
    expect(texts.some((text) => text.includes("Баланс жизни"))).toBe(true);
    // 12:00 UTC is 15:00 in Moscow; the specialist came from the appointment, not the message.
    expect(texts.filter((text) => text.includes("15:00") && text.includes("Мария Иванова")).length).toBe(2);
    expect(texts.every((text) => text.includes("Иван"))).toBe(true);
    expect(janeMail[0]?.subject).not.toMatch(/[а-яА-Я]/);
    expect(janeMail[0]?.text).toContain("Jane");

    expect(await deadLetterCount()).toBe(0);
    const reports = await pool.query<{ assessment_id: string }>("select assessment_id from public.reports");
    expect(reports.rows.map((row) => row.assessment_id).sort()).toEqual(
      [domain.ivanCheckup, domain.janeCheckup].sort(),
    );
    const failed = await pool.query<{ status: string }>("select status from public.payments where id = $1", [
      domain.pending,
    ]);
    expect(failed.rows[0]?.status).toBe("failed");
    // The seed-era events: on the day their timestamp says, or the day they were queued. The pipeline's
    // own (the failed payment, the two reports, the emails sent) beside them.
    const today = new Date().toISOString().slice(0, 10);
    const events = await pool.query<{ day: string; event: string; events: string }>(
      "select day::text, event, events::text from analytics.daily_event_counts order by event",
    );
    expect(events.rows).toEqual([
      { day: today, event: "appointment_booked", events: "1" },
      { day: "2026-11-20", event: "checkup_completed", events: "1" },
      // One per email the SMTP server accepted (048): the seven above.
      { day: today, event: "email_sent", events: "7" },
      { day: today, event: "payment_failed", events: "1" },
      { day: today, event: "report_generated", events: "2" },
    ]);

    // Exactly once: nothing more arrives while the worker keeps running.
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, { timeoutMs: 5_000 });
    expect(smtp.messages().filter((mail) => mail.envelope.to.includes(ivan.email))).toHaveLength(6);
    expect(smtp.messages().filter((mail) => mail.envelope.to.includes(jane.email))).toHaveLength(1);
  });

  it("sends a redelivered seed-era email once: its key is its queue and msg_id", async () => {
    const msgId = legacyEmailIds[0]!;
    const before = smtp.messages().length;
    await worker?.stop();
    worker = undefined;
    // As if the worker had died between the SMTP server's 250 and the archive: the message is back.
    await pool.query(
      `with back as (delete from pgmq.a_email_queue where msg_id = $1 returning msg_id, read_ct, enqueued_at, message)
       insert into pgmq.q_email_queue (msg_id, read_ct, enqueued_at, vt, message)
       overriding system value select msg_id, read_ct, enqueued_at, now(), message from back`,
      [msgId],
    );
    expect(await queueLength(pool, "email_queue")).toBe(1);
    worker = await startTestWorker({ databaseUrl: db.url, smtpPort: smtp.smtpPort, env });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, { timeoutMs: 20_000 });
    const archived = await pool.query("select 1 from pgmq.a_email_queue where msg_id = $1", [msgId]);
    expect(archived.rowCount).toBe(1);
    expect(smtp.messages().length).toBe(before);
    expect(await deadLetterCount()).toBe(0);
  });

  it("dead-letters a seed-era message that cannot be completed, naming what is missing", async () => {
    const { ivan } = domain;
    const missingCheckup = "00000000-0000-4000-8000-000000000001";
    await sendRaw(pool, "email_queue", {
      to: ivan.email,
      subject: "x",
      template: "checkup_completed",
      variables: { assessment_id: missingCheckup },
      priority: 0,
    });
    await sendRaw(pool, "email_queue", {
      to: ivan.email,
      subject: "x",
      template: "newsletter",
      variables: {},
    });
    await sendRaw(pool, "email_queue", {
      to: "nobody@example.com",
      subject: "x",
      template: "checkup_completed",
      variables: { assessment_id: domain.ivanCheckup },
    });
    await sendRaw(pool, "email_queue", {
      to: ivan.email,
      template: "appointment_confirmation",
      variables: {},
    });
    await sendRaw(pool, "analytics_queue", { event_type: "page_viewed", user_id: ivan.id });

    const dead = await waitFor(
      async () => {
        const emails = await deadLetters(pool, "email_queue");
        const events = await deadLetters(pool, "analytics_queue");
        const byMsgId = (x: Record<string, unknown>, y: Record<string, unknown>) =>
          Number(x.original_msg_id) - Number(y.original_msg_id);
        return emails.length === 4 && events.length === 1 ? [...emails.sort(byMsgId), ...events] : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const reasons = dead.map((letter) => (letter.error as { code: string; message: string }).message);
    const codes = dead.map((letter) => (letter.error as { code: string }).code);
    expect(codes).toEqual([
      "legacy_assessment_not_found",
      "legacy_unknown_template",
      "legacy_recipient_not_found",
      "legacy_variable_missing",
      "legacy_unknown_event",
    ]);
    expect(reasons[0]).toContain(missingCheckup);
    expect(reasons[1]).toContain('"newsletter"');
    expect(reasons[2]).toContain('"to"');
    expect(reasons[3]).toContain("variables.appointment_id");
    expect(reasons[4]).toContain('"page_viewed"');
  });
});
