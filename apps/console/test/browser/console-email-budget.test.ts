import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { applySeed, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { consoleSignInLink, findOperator } from "@balansity/devstack/console-sign-in";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { type EmailTemplateName, emailTemplateExamples } from "@balansity/emails";
import { emailSendTiers } from "@balansity/queues";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "./support/build-console.ts";
import { chromiumMissing, launchChromium } from "./support/chromium.ts";
import { type StaticServer, serveStatic } from "./support/static-server.ts";
import { spawnWorker, type WorkerProcess } from "./support/worker-process.ts";

// The send budget as an operator sees it: a real worker process under SMTP_SEND_LIMIT spends the
// budget on a real SMTP sink; the built console in Chromium shows what was sent, what remains, what
// waits per tier, and the waiting rows of the delivery log.

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: WorkerProcess;
let api: PostgrestRpc;
let outDir: string;
let site: StaticServer;
let browser: Browser;
let page: Page;

/** What the console RPC answers right now (as the database owner, which it lets through). */
async function budgetNow() {
  const { rows } = await pool.query("select * from public.console_email_budget($1::jsonb)", [
    JSON.stringify(emailSendTiers),
  ]);
  return rows as Record<string, unknown>[];
}

const title = chromiumMissing
  ? `the send budget in the console (skipped: ${chromiumMissing})`
  : "the send budget in the console";

describe.skipIf(chromiumMissing)(title, { timeout: 90_000 }, () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    await applySeed(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => undefined);
    smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    // Only this test's emails: the seed's own queued emails would blur the counts.
    await pool.query("select pgmq.purge_queue('email_queue')");
    // Before the worker starts: 2 transactional, 4 checkup, 3 reminder emails, to nine recipients.
    const emails: [EmailTemplateName, number][] = [
      ["payment_succeeded", 2],
      ["checkup_completed", 4],
      ["appointment_reminder_24h", 3],
    ];
    // As the app's producers queue them (priority 0); console test emails would all be priority 1.
    const messages = emails.flatMap(([template, count]) =>
      Array.from({ length: count }, (_, i) => ({
        version: 1,
        idempotency_key: `budget-view:${template}:${i}`,
        to: `${template.replaceAll("_", "-")}-${i}@example.com`,
        template,
        subject: null,
        locale: "en",
        timezone: "Europe/Moscow",
        variables: emailTemplateExamples[template],
        priority: 0,
        user_id: null,
      })),
    );
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      messages.map((message) => JSON.stringify(message)),
    ]);
    worker = await spawnWorker({
      databaseUrl: db.url,
      smtpPort: smtp.smtpPort,
      env: { SMTP_SEND_LIMIT: "3/1h" },
    });
    api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
    outDir = await buildConsole({ supabaseUrl: api.url, anonKey: api.anonKey });
    site = await serveStatic(outDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
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

  it("shows the budget spent, the emails waiting per tier and as waiting in the delivery log", async () => {
    // The budget allows 3 in an hour: the two transactional emails and one checkup email go, the rest wait.
    await smtp.waitForMessages(3, { timeoutMs: 30_000 });
    await expect.poll(async () => (await budgetNow())[0]?.waiting_for_budget, { timeout: 20_000 }).toBe("6");
    const [budget] = await budgetNow();
    expect(budget).toMatchObject({
      send_limit: 3,
      sent_in_window: 3,
      remaining: 0,
      waiting_tier_0: "0",
      waiting_tier_1: "3",
      waiting_tier_2: "3",
    });
    expect(smtp.messages().map((message) => message.envelope.to[0]?.split("-")[0])).toEqual(
      expect.arrayContaining(["payment", "payment", "checkup"]),
    );

    const operator = await findOperator(db.url);
    if (!operator) throw new Error("the seed has no operator");
    await page.goto(
      await consoleSignInLink({ consoleUrl: site.url, databaseUrl: db.url, operator, signJwt: api.signJwt }),
    );
    await page.getByTestId("signed-in-as").waitFor({ timeout: 15_000 });
    await page.getByRole("link", { name: "Email" }).click();

    const panel = page.getByTestId("email-budget");
    await panel.waitFor({ timeout: 15_000 });
    const cell = (id: string) => panel.getByTestId(id).textContent();
    expect(await panel.locator("tbody tr").count()).toBe(1);
    expect(await panel.locator("tbody tr td").first().textContent()).toContain("127.0.0.1/n***@b***");
    expect(await panel.textContent()).toContain("3 in 1 h");
    expect(await cell("budget-sent")).toBe("3");
    expect(await cell("budget-remaining")).toBe("0");
    expect(await cell("budget-waiting-tier-0")).toBe("0");
    expect(await cell("budget-waiting-tier-1")).toBe("3");
    expect(await cell("budget-waiting-tier-2")).toBe("3");
    expect(await cell("budget-waiting-log")).toBe("6");

    const deliveries = page.getByTestId("email-deliveries");
    await expect.poll(() => deliveries.locator("tbody tr.waiting").count(), { timeout: 15_000 }).toBe(6);
    expect(await deliveries.locator("tbody tr.waiting").first().textContent()).toContain(
      "waiting for the send budget",
    );
    expect(await deliveries.locator("tbody tr:not(.waiting)").count()).toBe(3);
    await page.screenshot({ path: `${ARTIFACTS}email-budget.png`, fullPage: true });
  });
});
