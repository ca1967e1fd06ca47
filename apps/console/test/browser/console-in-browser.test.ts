import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { applySeed, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { consoleSignInLink, findOperator } from "@balansity/devstack/console-sign-in";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailLocales, emailTemplateNames } from "@balansity/emails/catalog";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "./support/build-console.ts";
import { chromiumMissing, launchChromium } from "./support/chromium.ts";
import { type StaticServer, serveStatic } from "./support/static-server.ts";
import { spawnWorker, type WorkerProcess } from "./support/worker-process.ts";

// The whole path an operator takes: the built console in Chromium → supabase-js → the PostgREST
// stand-in → PostgreSQL (console_* RPCs as the operator's JWT) ← a real worker process → SMTP sink.

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const POISON_TO = "dead-letter.test@example.com";

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: WorkerProcess;
let api: PostgrestRpc;
let outDir: string;
let site: StaticServer;
let browser: Browser;
let page: Page;

async function screenshot(name: string) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Waits, with a deadline, until `condition` is true (the console refreshes every 5 s on its own). */
async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function deadLettersOf(recipient: string): Promise<number[]> {
  const { rows } = await pool.query<{ msg_id: string }>(
    "select msg_id from pgmq.q_email_queue_dlq where message->'message'->>'to' = $1",
    [recipient],
  );
  return rows.map((row) => Number(row.msg_id));
}

// A real browser, worker and database on a shared CI machine: generous per-test time, no timed assertions.
const title = chromiumMissing
  ? `the operator console in Chromium (skipped: ${chromiumMissing})`
  : "the operator console in Chromium";

describe.skipIf(chromiumMissing)(title, { timeout: 90_000 }, () => {
  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    await applySeed(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => undefined);
    smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    worker = await spawnWorker({ databaseUrl: db.url, smtpPort: smtp.smtpPort });
    api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
    outDir = await buildConsole({ supabaseUrl: api.url, anonKey: api.anonKey });
    site = await serveStatic(outDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await api?.stop();
    await worker?.stop();
    await smtp?.stop();
    await pool?.end();
    await db?.drop();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("signs the seeded operator in from the sign-in link and removes the token from the address", async () => {
    const operator = await findOperator(db.url);
    expect(operator?.email).toBe("operator@balansity.local");
    if (!operator) return;
    await page.goto(
      await consoleSignInLink({ consoleUrl: site.url, databaseUrl: db.url, operator, signJwt: api.signJwt }),
    );

    await expect
      .poll(() => page.getByTestId("signed-in-as").textContent(), { timeout: 15_000 })
      .toBe("operator@balansity.local");
    expect(page.url()).not.toContain("access_token");
  });

  it("shows the sign-in form without a session, and a refusal to a signed-in user who is not an operator", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const stranger = await context.newPage();
      await stranger.goto(site.url);
      await stranger.getByRole("button", { name: "Email me a sign-in link" }).waitFor();
      await stranger.screenshot({ path: `${ARTIFACTS}sign-in.png` });

      const anna = { id: "11111111-1111-4111-8111-111111111111", email: "anna.ivanova@example.com" };
      // Anna's own session, as Supabase Auth would give her: no role in app_metadata.
      const token = api.signJwt({
        role: "authenticated",
        aud: "authenticated",
        sub: anna.id,
        email: anna.email,
        app_metadata: { provider: "email" },
        exp: Math.floor(Date.now() / 1000) + 600,
      });
      const fragment = new URLSearchParams({
        access_token: token,
        token_type: "bearer",
        expires_in: "600",
        refresh_token: "unused",
      });
      // A fresh page: a fragment-only change of the same URL would not load the app again.
      const annaPage = await context.newPage();
      await annaPage.goto(`${site.url}#${fragment}`);
      const refusal = annaPage.getByRole("alert");
      await refusal.waitFor({ timeout: 15_000 });
      expect(await refusal.textContent()).toContain("anna.ivanova@example.com is not an operator");
      expect(await annaPage.getByTestId("signed-in-as").count()).toBe(0);
      await annaPage.screenshot({ path: `${ARTIFACTS}not-an-operator.png` });
    } finally {
      await context.close();
    }
  });

  it("shows every queue with its depth and a chart of the sampled history", async () => {
    // Three hours of per-minute samples, as the sample-queue-metrics job writes them.
    await pool.query(
      `insert into automation.queue_metrics_history
         (queue_name, sampled_at, depth, total_messages, processed, processed_per_minute)
       select 'email_queue', date_trunc('minute', now()) - make_interval(mins => i), round(12 + 8 * cos(i / 25.0)), 5000 - i,
              20 + round(15 * sin(i / 15.0)), 20 + round(15 * sin(i / 15.0))
         from generate_series(1, 180) as i`,
    );
    await page.getByRole("link", { name: "Queues" }).click();
    const overview = page.getByTestId("queue-overview");
    await overview.locator("tr[data-queue='email_queue']").waitFor();
    const { rows } = await pool.query<{ queue_name: string }>(
      "select queue_name from public.console_queue_overview()",
    );
    await expect.poll(() => overview.locator("tbody tr").count()).toBe(rows.length);
    const chart = page.locator("[data-chart='email_queue']");
    await expect.poll(() => chart.textContent(), { timeout: 15_000 }).toContain("180 samples");
    expect(await chart.locator("polyline").count()).toBe(2);
    await screenshot("queues");
  });

  it("browses the messages of a queue with personal data masked", async () => {
    const address = "hidden.person@example.com";
    // Delayed an hour: the worker leaves it alone, so it waits in the queue to be looked at.
    await pool.query(
      `select pgmq.send('email_queue', jsonb_build_object('to', $1::text, 'template', 'checkup_completed',
         'variables', jsonb_build_object('user_name', 'Hidden Person')), 3600)`,
      [address],
    );
    await page
      .locator("tr[data-queue='email_queue']")
      .getByRole("button", { name: "Browse messages" })
      .click();
    const messages = page.getByTestId("message-browser");
    await expect.poll(() => messages.locator("tbody tr").count(), { timeout: 15_000 }).toBe(1);
    const text = (await messages.textContent()) ?? "";
    expect(text).toContain("checkup_completed");
    expect(text).not.toContain(address);
    expect(text).not.toContain("Hidden Person");
    await screenshot("queues-message-browser");
  });

  it("retries a dead-lettered email after the SMTP server is fixed, and the email arrives", async () => {
    smtp.setFailureMode({ kind: "permanent", code: 550 });
    await page.getByRole("link", { name: "Email" }).click();
    await page.getByLabel("to", { exact: true }).fill(POISON_TO);
    await page.locator("select[name='template']").selectOption("report_ready");
    await page.locator("select[name='locale']").selectOption("en");
    await page.getByRole("button", { name: "Send test email" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `to ${POISON_TO}` })
      .waitFor();

    await waitUntil("the email is a dead letter", async () => (await deadLettersOf(POISON_TO)).length === 1);
    const [deadId] = await deadLettersOf(POISON_TO);
    smtp.setFailureMode({ kind: "none" });

    await page.getByRole("link", { name: "Dead letters" }).click();
    await page.locator("select").first().selectOption("email_queue");
    const row = page.locator(`tr[data-msg-id='${deadId}']`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("smtp_rejected");
    await screenshot("dead-letters");
    await row.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("status").filter({ hasText: "Retried 1" }).waitFor();

    const [mail] = await smtp.waitForMessages(1, { to: POISON_TO, timeoutMs: 20_000 });
    expect(mail?.subject).toMatch(/report/i);
    expect(await deadLettersOf(POISON_TO)).toEqual([]);
  });

  it("discards a dead letter only after the operator confirms", async () => {
    smtp.setFailureMode({ kind: "permanent", code: 550 });
    const to = "discard.test@example.com";
    await pool.query("select public.console_queue_test_email($1, 'checkup_completed', 'ru')", [to]);
    await waitUntil("the email is a dead letter", async () => (await deadLettersOf(to)).length === 1);
    smtp.setFailureMode({ kind: "none" });
    const [deadId] = await deadLettersOf(to);

    await page.getByRole("searchbox").first().fill(to);
    const row = page.locator(`tr[data-msg-id='${deadId}']`);
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Discard selected (1)" }).click();
    await page.getByRole("alertdialog").waitFor();
    await screenshot("dead-letters-confirm-discard");
    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await deadLettersOf(to)).toEqual([deadId]);

    await page.getByRole("button", { name: "Discard selected (1)" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Discard" }).click();
    await page.getByRole("status").filter({ hasText: "Discarded 1" }).waitFor();
    expect(await deadLettersOf(to)).toEqual([]);
    expect(smtp.messages().filter((message) => message.to.includes(to))).toEqual([]);
  });

  it("retries every dead letter of one error code at once", async () => {
    smtp.setFailureMode({ kind: "permanent", code: 550 });
    const recipients = ["bulk.one@example.com", "bulk.two@example.com"];
    for (const to of recipients) {
      await pool.query("select public.console_queue_test_email($1, 'payment_failed', 'en')", [to]);
    }
    await waitUntil("both emails are dead letters", async () => {
      const counts = await Promise.all(recipients.map(deadLettersOf));
      return counts.every((ids) => ids.length === 1);
    });
    smtp.setFailureMode({ kind: "none" });

    await page.getByRole("searchbox").first().fill("");
    await page.locator("select").nth(1).selectOption("smtp_rejected");
    await expect
      .poll(() => page.getByTestId("dead-letters").locator("tbody tr").count(), { timeout: 15_000 })
      .toBe(2);
    await page.getByRole("button", { name: "Retry all matching" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: "Retried 2 (every dead letter of email_queue with error smtp_rejected)" })
      .waitFor();

    for (const to of recipients) await smtp.waitForMessages(1, { to, timeoutMs: 20_000 });
    expect(await Promise.all(recipients.map(deadLettersOf))).toEqual([[], []]);
  });

  it("lists the scheduled jobs with their last run, failures and run history", async () => {
    // Runs as the worker's fallback scheduler records them (no pg_cron in a test database).
    await pool.query(
      `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
         ('purge-queue-archives', 'succeeded', '{"purged": 12}', now() - interval '2 hours', now() - interval '2 hours'),
         ('purge-queue-archives', 'failed', 'could not purge: disk full', now() - interval '1 hour', now() - interval '1 hour')`,
    );
    await page.getByRole("link", { name: "Cron" }).click();
    const table = page.getByTestId("cron-jobs");
    await table.waitFor();
    const { rows } = await pool.query<{ jobname: string }>("select jobname from public.console_cron_jobs()");
    await expect.poll(() => table.locator("tbody tr").count()).toBe(rows.length);
    const job = table.locator("tr", { hasText: "purge-queue-archives" });
    await expect
      .poll(() => job.locator("td").allTextContents(), { timeout: 15_000 })
      .toEqual([
        "purge-queue-archives",
        "0 1 * * *",
        "worker",
        "yes",
        expect.any(String),
        "failed",
        "1",
        "Runs",
      ]);
    await job.getByRole("button", { name: "Runs" }).click();
    const runs = page.getByTestId("cron-runs");
    await expect.poll(() => runs.locator("tbody tr").count()).toBe(2);
    expect(await runs.textContent()).toContain("could not purge: disk full");
    await screenshot("cron");
  });

  it("previews every template in Russian and English, and lists the delivery of the retried email", async () => {
    await page.getByRole("link", { name: "Email" }).click();
    const previews = page.getByTestId("template-previews");
    await previews.waitFor();
    await expect
      .poll(() => previews.locator("td[data-preview] button").count(), { timeout: 15_000 })
      .toBe(emailTemplateNames.length * emailLocales.length);
    expect(await previews.locator("td[data-preview] .error").count()).toBe(0);
    const ruSubject = await previews.locator("td[data-preview='checkup_completed/ru'] button").textContent();
    expect(ruSubject).toMatch(/[а-яё]/i);
    await previews.locator("td[data-preview='payment_succeeded/en'] button").click();
    const preview = page.frameLocator("iframe[title='preview payment_succeeded en']");
    await expect.poll(() => preview.locator("body").textContent(), { timeout: 10_000 }).toContain("4,500");

    // An exact address (a part of one finds nothing: it could be extended a character at a time).
    await page.getByPlaceholder("exact address or a***@e***").fill(POISON_TO);
    const deliveries = page.getByTestId("email-deliveries");
    await expect.poll(() => deliveries.locator("tbody tr").count(), { timeout: 15_000 }).toBe(1);
    expect(await deliveries.textContent()).toContain("sent");
    await page.getByPlaceholder("exact address or a***@e***").fill("");
    await screenshot("email");
  });

  it("names the bad field of a test email in the browser and queues nothing", async () => {
    await page.getByRole("link", { name: "Email" }).click();
    // A form-valid address that the queue's schema refuses (no top-level domain).
    await page.getByLabel("to", { exact: true }).fill("someone@localhost");
    await page.getByRole("button", { name: "Send test email" }).click();
    const alert = page.getByRole("alert").filter({ hasText: '"to"' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("nothing was enqueued");
    // Queued, archived or dead-lettered, a message to that address would be in one of these.
    const sent = await pool.query(
      `select count(*)::int as n from (
         select message from pgmq.q_email_queue union all select message from pgmq.a_email_queue
         union all select message from pgmq.q_email_queue_dlq
       ) m where m.message::text like '%someone@localhost%'`,
    );
    expect(sent.rows[0].n).toBe(0);
  });

  it("regenerates a report from the reports page", async () => {
    const assessment = "aaaaaaaa-0000-4000-8000-000000000002";
    await pool.query(
      `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
       select id, user_id, 'reports/' || id || '.pdf', 48213, repeat('0', 64), 'test'
         from public.assessments where id = $1`,
      [assessment],
    );
    const jobs = `select count(*)::int as n from (
        select message from pgmq.q_report_generation_queue union all select message from pgmq.a_report_generation_queue
      ) m where m.message->>'assessment_id' = $1`;
    const before = await pool.query(jobs, [assessment]);
    await page.getByRole("link", { name: "Reports" }).click();
    const table = page.getByTestId("reports");
    await table.waitFor({ timeout: 15_000 });
    await table.getByRole("button", { name: "Regenerate" }).first().click();
    await page
      .getByRole("status")
      .filter({ hasText: `Queued report generation for ${assessment}` })
      .waitFor();
    // The message on screen is backed by a job in the report queue (queued or already done).
    const after = await pool.query(jobs, [assessment]);
    expect(after.rows[0].n).toBe(before.rows[0].n + 1);
    await screenshot("reports");
  });

  it("signs out back to the sign-in form, and a reload keeps it signed out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Email me a sign-in link" }).waitFor();
    await page.reload();
    await page.getByRole("button", { name: "Email me a sign-in link" }).waitFor();
    expect(await page.getByTestId("signed-in-as").count()).toBe(0);
  });
});
