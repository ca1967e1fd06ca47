import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { completeAssessment, createAssessment, createUser, queueLength } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  worker = await startTestWorker({ databaseUrl: db.url, smtpPort: smtp.smtpPort });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
});

describe("database change → email in the user's language", () => {
  it("sends checkup_completed in Russian when a Russian user's checkup completes", async () => {
    const user = await createUser(pool, { locale: "ru", fullName: "Анна" });
    const assessment = await createAssessment(pool, user.id, "Баланс жизни");
    await completeAssessment(pool, assessment);

    const [mail] = await smtp.waitForMessages(1, { timeoutMs: 10_000, to: user.email });
    expect(mail?.subject).toMatch(/[а-яА-Я]/);
    expect(mail?.text).toContain("Анна");
    expect(mail?.html).toContain("Баланс жизни");
    expect(mail?.from).toContain("noreply@balansity.test");
  });

  it("sends checkup_completed in English to an English-speaking user", async () => {
    const user = await createUser(pool, { locale: "en", fullName: "John", timezone: "Europe/London" });
    const assessment = await createAssessment(pool, user.id, "Life balance");
    await completeAssessment(pool, assessment);

    const [mail] = await smtp.waitForMessages(1, { timeoutMs: 10_000, to: user.email });
    expect(mail?.subject).not.toMatch(/[а-яА-Я]/);
    expect(mail?.text).toContain("John");
  });

  it("confirms a booked appointment with the time in the user's timezone", async () => {
    const user = await createUser(pool, { locale: "ru", timezone: "Europe/Moscow" });
    await pool.query(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
       values ($1, 'Мария Иванова', '2030-11-25T12:00:00Z', '2030-11-25T13:00:00Z')`,
      [user.id],
    );
    const [mail] = await smtp.waitForMessages(1, { timeoutMs: 10_000, to: user.email });
    // 12:00 UTC is 15:00 in Moscow.
    expect(mail?.text).toContain("15:00");
    expect(mail?.text).toContain("Мария Иванова");
  });

  it("confirms a completed payment, marks the appointment paid, and tells about a failed one", async () => {
    const user = await createUser(pool, { locale: "en" });
    const { rows } = await pool.query<{ id: string }>(
      `insert into public.appointments (user_id, specialist_name, starts_at, ends_at, price_amount)
       values ($1, 'Maria', now() + interval '3 days', now() + interval '3 days 1 hour', 4500) returning id`,
      [user.id],
    );
    const appointmentId = rows[0]!.id;
    await smtp.waitForMessages(1, { timeoutMs: 10_000, to: user.email });
    const payments = await pool.query<{ id: string }>(
      `insert into public.payments (user_id, appointment_id, amount, currency, provider, provider_payment_id)
       values ($1, $2, 4500, 'RUB', 'yookassa', 'p-' || gen_random_uuid()), ($1, $2, 4500, 'RUB', 'yookassa', 'p-' || gen_random_uuid())
       returning id`,
      [user.id, appointmentId],
    );
    const [paid, failed] = payments.rows;
    await pool.query("update public.payments set status = 'completed' where id = $1", [paid!.id]);
    await pool.query(
      "update public.payments set status = 'failed', failure_reason = 'card declined' where id = $1",
      [failed!.id],
    );

    const mails = await smtp.waitForMessages(3, { timeoutMs: 10_000, to: user.email });
    const texts = mails.map((mail) => mail.text ?? "").join("\n");
    expect(texts).toContain("4,500.00");
    expect(texts).toContain("card declined");
    const appointment = await pool.query("select payment_status from public.appointments where id = $1", [
      appointmentId,
    ]);
    expect(appointment.rows[0]?.payment_status).toBe("paid");
  });

  it("archives what it processed: the queues end empty and the archive keeps them", async () => {
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, { what: "empty email_queue" });
    await waitFor(async () => (await queueLength(pool, "analytics_queue")) === 0, {
      what: "empty analytics_queue",
    });
    const archived = await pool.query<{ n: string }>("select count(*) as n from pgmq.a_email_queue");
    expect(Number(archived.rows[0]?.n)).toBe(6);
    // Exactly the six emails above, each once: a duplicate would pass every "wait for n" before.
    const mails = smtp.messages();
    expect(mails).toHaveLength(6);
    expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(6);
    const analytics = await pool.query<{ events: string }>(
      "select coalesce(sum(events), 0) as events from analytics.daily_event_counts where event = 'checkup_completed'",
    );
    expect(Number(analytics.rows[0]?.events)).toBe(2);
  });

  it("serves health, readiness and Prometheus metrics", async () => {
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).toMatch(/balansity_messages_processed_total\{queue="email_queue"\} [1-9]/);
    expect(metrics).toContain("balansity_queue_depth");
    expect(metrics).toContain("balansity_handler_duration_seconds_bucket");
  });
});
