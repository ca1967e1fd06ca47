import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { type EdgeFunctions, startEdgeFunctions } from "@balansity/devstack/edge-functions";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { createUser, queueLength } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// Reminders' one-click unsubscribe (RFC 8058) on real parts: PostgreSQL with the migrations, the
// PostgREST-compatible API, the `unsubscribe` Edge Function under Deno over HTTP, the worker (it signs
// the links) and the SMTP sink. The reminder cron job is called with a p_now that makes each
// appointment due.

let db: TestDatabase;
let pool: pg.Pool;
let api: PostgrestRpc;
let functions: EdgeFunctions;
let smtp: SmtpSink;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  // One secret on both sides, made for this run.
  const secret = randomJwtSecret();
  functions = await startEdgeFunctions({
    names: ["unsubscribe"],
    env: {
      SUPABASE_URL: api.url,
      SUPABASE_SERVICE_ROLE_KEY: api.serviceRoleKey,
      UNSUBSCRIBE_SECRET: secret,
    },
  });
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    env: { UNSUBSCRIBE_URL: `${functions.url}/unsubscribe`, UNSUBSCRIBE_SECRET: secret },
  });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await functions?.stop();
  await smtp?.stop();
  await api?.stop();
  await pool?.end();
  await db?.drop();
});

interface Booked {
  readonly user: { id: string; email: string };
  readonly appointmentId: string;
  readonly startsAt: Date;
}

/** A user (English) books an appointment three days ahead; its confirmation arrives. */
async function book(): Promise<Booked> {
  const user = await createUser(pool, { locale: "en", fullName: "John" });
  const { rows } = await pool.query<{ id: string; starts_at: Date }>(
    `insert into public.appointments (user_id, specialist_name, starts_at, ends_at)
     values ($1, 'Maria', date_trunc('minute', now()) + interval '3 days', date_trunc('minute', now()) + interval '3 days 1 hour')
     returning id, starts_at`,
    [user.id],
  );
  await smtp.waitForMessages(1, { timeoutMs: 15_000, to: user.email });
  return { user, appointmentId: rows[0]!.id, startsAt: rows[0]!.starts_at };
}

/** The reminder cron job as of `minutesBefore` minutes before `startsAt`. */
async function runReminders(startsAt: Date, minutesBefore: number) {
  const { rows } = await pool.query<{ summary: { reminder_24h: number; reminder_1h: number } }>(
    "select public.send_appointment_reminders($1) as summary",
    [new Date(startsAt.getTime() - minutesBefore * 60_000)],
  );
  return rows[0]!.summary;
}

function mailsTo(email: string, subject: RegExp) {
  return smtp.messages().filter((mail) => mail.envelope.to.includes(email) && subject.test(mail.subject));
}

async function remindersOn(userId: string): Promise<{ on: boolean; unsubscribedAt: Date | null }> {
  const { rows } = await pool.query<{
    reminder_emails: boolean;
    reminder_emails_unsubscribed_at: Date | null;
  }>("select reminder_emails, reminder_emails_unsubscribed_at from public.profiles where id = $1", [userId]);
  return { on: rows[0]!.reminder_emails, unsubscribedAt: rows[0]!.reminder_emails_unsubscribed_at };
}

/** The URL inside `List-Unsubscribe: <…>`. */
function unsubscribeUrl(header: string | undefined): string {
  const match = /^<(https?:\/\/[^>]+)>$/.exec(header ?? "");
  expect(match, `List-Unsubscribe: ${header}`).not.toBeNull();
  return match![1]!;
}

function oneClick(url: string): Promise<Response> {
  // What a mail provider sends (RFC 8058 3.2): no cookies, no authorization, only this body.
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
  });
}

async function drained(): Promise<void> {
  await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, { what: "empty email_queue" });
}

describe("one-click unsubscribe from reminder emails", () => {
  it("a reminder carries both headers; one click turns the user's reminders off and the next run skips them", async () => {
    const anna = await book();
    const boris = await book();
    expect(anna.startsAt.getTime()).toBe(boris.startsAt.getTime());

    // A transactional email (the booking confirmation) has no unsubscribe headers.
    const confirmations = mailsTo(anna.user.email, /^Your consultation is confirmed/);
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]!.headers["list-unsubscribe"]).toBeUndefined();
    expect(confirmations[0]!.headers["list-unsubscribe-post"]).toBeUndefined();
    expect(confirmations[0]!.html).not.toContain("/unsubscribe");

    // 23 hours before: the 24-hour reminders go to both, each with its own link.
    expect(await runReminders(anna.startsAt, 23 * 60)).toMatchObject({ reminder_24h: 2 });
    await smtp.waitForMessages(2, { timeoutMs: 15_000, to: anna.user.email });
    await smtp.waitForMessages(2, { timeoutMs: 15_000, to: boris.user.email });
    const [reminder] = mailsTo(anna.user.email, /^Reminder: your consultation/);
    expect(reminder, "Anna's 24-hour reminder").toBeDefined();
    expect(reminder!.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    const annaUrl = unsubscribeUrl(reminder!.headers["list-unsubscribe"]);
    expect(annaUrl.startsWith(`${functions.url}/unsubscribe?token=`)).toBe(true);
    // The footer shows the same link (a person's click lands on the button page).
    expect(reminder!.html).toContain(`href="${annaUrl}"`);
    const borisUrl = unsubscribeUrl(
      mailsTo(boris.user.email, /^Reminder: your consultation/)[0]?.headers["list-unsubscribe"],
    );
    expect(borisUrl).not.toBe(annaUrl);

    // A link checker's GET shows the button page and changes nothing.
    const page = await fetch(annaUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await remindersOn(anna.user.id)).on).toBe(true);

    // The one-click POST, to the URL from the header, as a mail provider makes it.
    const clicked = await oneClick(annaUrl);
    expect(clicked.status).toBe(200);
    await clicked.text();
    const after = await remindersOn(anna.user.id);
    expect(after.on).toBe(false);
    expect(after.unsubscribedAt).toBeInstanceOf(Date);
    // Again: still 200, and the time of the first click stays.
    const again = await oneClick(annaUrl);
    expect(again.status).toBe(200);
    await again.text();
    expect((await remindersOn(anna.user.id)).unsubscribedAt).toEqual(after.unsubscribedAt);
    expect((await remindersOn(boris.user.id)).on).toBe(true);

    // 30 minutes before: the 1-hour reminder goes to Boris only.
    expect(await runReminders(anna.startsAt, 30)).toMatchObject({ reminder_1h: 1 });
    await smtp.waitForMessages(3, { timeoutMs: 15_000, to: boris.user.email });
    await drained();
    expect(mailsTo(boris.user.email, /^Your consultation starts soon/)).toHaveLength(1);
    expect(mailsTo(anna.user.email, /^Your consultation starts soon/)).toHaveLength(0);
    expect(smtp.messages().filter((m) => m.envelope.to.includes(anna.user.email))).toHaveLength(2);
    const { rows } = await pool.query<{ reminder_1h_sent_at: Date | null }>(
      "select reminder_1h_sent_at from public.appointments where id = $1",
      [anna.appointmentId],
    );
    expect(rows[0]!.reminder_1h_sent_at).toBeNull();
  });

  it("a forged or changed token is refused (403) and changes nothing", async () => {
    const carla = await book();
    const dmitri = await book();
    expect(await runReminders(carla.startsAt, 23 * 60)).toMatchObject({ reminder_24h: 2 });
    await smtp.waitForMessages(2, { timeoutMs: 15_000, to: carla.user.email });
    const carlaUrl = unsubscribeUrl(
      mailsTo(carla.user.email, /^Reminder: your consultation/)[0]?.headers["list-unsubscribe"],
    );
    const token = new URL(carlaUrl).searchParams.get("token")!;
    const [, mac] = token.split(".");

    const forged = [
      // Carla's signature on Dmitri's id.
      `${dmitri.user.id}.${mac}`,
      // A signature nobody made.
      `${dmitri.user.id}.${"A".repeat(43)}`,
      "",
    ];
    for (const bad of forged) {
      const url = new URL(carlaUrl);
      url.searchParams.set("token", bad);
      const response = await oneClick(url.toString());
      expect(response.status, bad).toBe(403);
      await response.text();
    }
    expect((await remindersOn(dmitri.user.id)).on).toBe(true);
    expect((await remindersOn(carla.user.id)).on).toBe(true);
    // Without the one-click body the real link does nothing either.
    const noBody = await fetch(carlaUrl, { method: "POST" });
    expect(noBody.status).toBe(400);
    await noBody.text();
    expect((await remindersOn(carla.user.id)).on).toBe(true);

    // Both still get the next reminder.
    expect(await runReminders(carla.startsAt, 30)).toMatchObject({ reminder_1h: 2 });
    await smtp.waitForMessages(3, { timeoutMs: 15_000, to: carla.user.email });
    await smtp.waitForMessages(3, { timeoutMs: 15_000, to: dmitri.user.email });
  });
});
