// Checkup reports end to end against a real database, a real SMTP sink and the real PDF renderer:
// a completed checkup becomes a stored PDF, a public.reports row and one report_ready email with
// the PDF attached; bad results go to the dead-letter queue naming the field; a storage outage is
// retried without losing the job; a retried job sends no second email; a user's request makes a
// new report and a new email.

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { FsReportStore, ReportStorageError, type ReportStore } from "@balansity/reports";
import pg from "pg";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildProcessors } from "../src/build-processors.ts";
import { loadConfig } from "../src/config/load-config.ts";
import { type RunningWorker, startWorker } from "../src/worker.ts";
import { createUser, deadLetters, sendRaw } from "./support/domain.ts";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";

const run = promisify(execFile);
const artifacts = join(import.meta.dirname, "..", "test-artifacts");

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let reportsDir: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  reportsDir = await mkdtemp(join(tmpdir(), "worker-reports-"));
  await mkdir(artifacts, { recursive: true });
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

afterAll(async () => {
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
  await rm(reportsDir, { recursive: true, force: true });
});

/** A worker with every processor; the report store is the folder, or the one given. */
async function startReportWorker(options: { store?: ReportStore; env?: Record<string, string> } = {}) {
  const config = loadConfig(
    testWorkerEnv({
      databaseUrl: db.url,
      smtpPort: smtp.smtpPort,
      env: { REPORT_FS_DIR: reportsDir, REPORT_PUBLIC_URL: "http://127.0.0.1:9/reports/", ...options.env },
    }),
  );
  const logger = pino({ level: config.logLevel });
  worker = await startWorker({
    config,
    logger,
    // Retries come back after 1 s instead of 1-2 s.
    random: () => 0,
    processors: (workerPool) =>
      buildProcessors({
        config,
        pool: workerPool,
        logger,
        ...(options.store ? { reportStore: options.store } : {}),
      }),
  });
  return worker;
}

/** Anna's wellbeing checkup, answered and completed: the database scores it (energy 88, sleep 50, mood 13). */
async function completedCheckup(options: { answers?: object; fullName?: string } = {}) {
  const user = await createUser(pool, { fullName: options.fullName ?? "Анна Иванова" });
  const { rows } = await pool.query<{ id: string }>(
    `insert into public.assessments (user_id, kind, title, answers)
     values ($1, 'wellbeing', 'Общее самочувствие', $2) returning id`,
    [user.id, options.answers ?? { q1: 5, q2: 4, q3: 3, q4: 3, q5: 1, q6: 2 }],
  );
  const assessmentId = rows[0]!.id;
  await pool.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
  return { ...user, assessmentId };
}

async function reportRows(assessmentId: string) {
  const { rows } = await pool.query<{
    storage_path: string;
    size_bytes: number;
    sha256: string;
    renderer_version: string;
  }>(
    "select storage_path, size_bytes, sha256, renderer_version from public.reports where assessment_id = $1",
    [assessmentId],
  );
  return rows;
}

async function reportEmails(to: string, count: number) {
  const all = await smtp.waitForMessages(count, { to, timeoutMs: 30_000 });
  return all.filter((message) => /отчёт|report/i.test(message.subject));
}

async function pdfText(bytes: Buffer, name: string): Promise<string> {
  const file = join(artifacts, name);
  await writeFile(file, bytes);
  return (await run("pdftotext", ["-layout", file, "-"])).stdout;
}

describe("a completed checkup", () => {
  it("gets a stored PDF, a reports row and one report_ready email with the PDF attached", async () => {
    await startReportWorker();
    const anna = await completedCheckup();

    const [checkupEmail, reportEmail] = await smtp.waitForMessages(2, { to: anna.email, timeoutMs: 30_000 });
    const rows = await reportRows(anna.assessmentId);

    expect(checkupEmail?.subject).not.toMatch(/Отчёт/);
    expect(reportEmail?.subject).toBe("Отчёт по чекапу «Общее самочувствие» готов");
    expect(rows).toHaveLength(1);
    const [row] = rows;
    const stored = await readFile(join(reportsDir, row!.storage_path));
    expect(row).toMatchObject({ size_bytes: stored.length, renderer_version: "pdf-2" });
    expect(row!.sha256).toBe(createHash("sha256").update(stored).digest("hex"));
    expect(row!.storage_path).toMatch(new RegExp(`^${anna.id}/${anna.assessmentId}/[0-9a-f]{16}\\.pdf$`));
    // The signed link first, then the attachment.
    expect(reportEmail?.text).toContain(`http://127.0.0.1:9/reports/${row!.storage_path}?token=`);
    expect(reportEmail?.attachments).toEqual([
      {
        filename: expect.stringMatching(/^balansity-wellbeing-\d{4}-\d{2}-\d{2}\.pdf$/),
        contentType: "application/pdf",
        size: stored.length,
      },
    ]);
    const attached = smtp.attachment(reportEmail!.id, 0)!.content;
    expect(attached.equals(stored)).toBe(true);

    const text = await pdfText(attached, "worker-report-ru.pdf");
    expect(text).toContain("Анна Иванова");
    expect(text).toContain("Общее самочувствие");
    expect(text).toContain("50 / 100");
    expect(text).toMatch(/Энергия\s+88/);
    expect(text).toMatch(/Сон\s+50/);
    expect(text).toMatch(/Настроение\s+13/);
    await run("pdftoppm", [
      "-png",
      "-r",
      "80",
      "-singlefile",
      "-f",
      "1",
      "-l",
      "1",
      join(artifacts, "worker-report-ru.pdf"),
      join(artifacts, "worker-report-ru-page-1"),
    ]);
    expect((await readFile(join(artifacts, "worker-report-ru-page-1.png"))).subarray(1, 4).toString()).toBe(
      "PNG",
    );
  });

  it("results that do not fit the contract go to the dead-letter queue naming the field, and no report email", async () => {
    await startReportWorker();
    // q5 and q6 unanswered: the database leaves the mood scale out.
    const anna = await completedCheckup({ answers: { q1: 5, q2: 4, q3: 3, q4: 3 } });

    const [letter] = await waitFor(
      async () => {
        const letters = await deadLetters(pool, "report_generation_queue");
        const mine = letters.filter(
          (entry) => (entry.message as { assessment_id?: string }).assessment_id === anna.assessmentId,
        );
        return mine.length > 0 ? mine : undefined;
      },
      { timeoutMs: 30_000, what: "the report job in the dead-letter queue" },
    );

    expect(letter?.error).toMatchObject({ code: "report_results_invalid" });
    expect(letter?.error).toMatchObject({ message: expect.stringContaining("results.scales.mood") });
    expect(letter?.attempts).toBe(1);
    await smtp.waitForMessages(1, { to: anna.email, timeoutMs: 30_000 });
    expect(await reportRows(anna.assessmentId)).toHaveLength(0);
    expect(smtp.messages().filter((m) => m.envelope.to.includes(anna.email))).toHaveLength(1);
  });
});

/** A completed checkup of `kind`, with `results` as the app saved them (null: none) and answers. */
async function checkupAsSaved(kind: string, results: object | null, answers: object = {}) {
  const user = await createUser(pool, { fullName: "Анна Иванова" });
  const { rows } = await pool.query<{ id: string }>(
    `insert into public.assessments (user_id, kind, title, answers, results)
     values ($1, $2, 'Чекап', $3, $4) returning id`,
    [user.id, kind, answers, results],
  );
  const assessmentId = rows[0]!.id;
  await pool.query("update public.assessments set status = 'completed' where id = $1", [assessmentId]);
  return { ...user, assessmentId };
}

/** The report jobs of one checkup in the dead-letter queue. */
async function lettersFor(assessmentId: string) {
  const letters = await deadLetters(pool, "report_generation_queue");
  return letters.filter(
    (entry) => (entry.message as { assessment_id?: string }).assessment_id === assessmentId,
  );
}

/** The text of the PDF attached to the user's report_ready email. */
async function reportText(to: string, name: string): Promise<string> {
  const [, reportEmail] = await smtp.waitForMessages(2, { to, timeoutMs: 30_000 });
  expect(reportEmail?.subject).toMatch(/Отчёт/);
  return pdfText(smtp.attachment(reportEmail!.id, 0)!.content, name);
}

describe("results as the app saved them", () => {
  it("renders the results the app saved on a checkup of a kind we do not score", async () => {
    await startReportWorker();
    const saved = { score: 64, level: "moderate", scales: { hydration: 71, variety: 57 } };
    const user = await checkupAsSaved("nutrition", saved);

    const text = await reportText(user.email, "worker-report-app-results.pdf");
    expect(text).toContain("64 / 100");
    expect(text).toMatch(/hydration\s+71/);
    expect(text).toMatch(/variety\s+57/);
    expect(await lettersFor(user.assessmentId)).toHaveLength(0);
  });

  it("scores the answers when what the app saved does not fit the contract and the kind has a scorer", async () => {
    await startReportWorker();
    const user = await checkupAsSaved(
      "wellbeing",
      { score: 500, level: "excellent" },
      { q1: 5, q2: 4, q3: 3, q4: 3, q5: 1, q6: 2 },
    );

    const text = await reportText(user.email, "worker-report-scored.pdf");
    expect(text).toContain("50 / 100");
    expect(text).toMatch(/Энергия\s+88/);
  });

  it("makes a report without scores, and sends it, for a kind with no scorer and nothing saved", async () => {
    await startReportWorker();
    const user = await checkupAsSaved("nutrition", null, { q1: 3 });

    const text = await reportText(user.email, "worker-report-no-scores.pdf");
    expect(text).toContain("Анна Иванова");
    expect(text).toContain("нет баллов");
    expect(text).not.toContain("/ 100");
    expect(await reportRows(user.assessmentId)).toHaveLength(1);
    expect(await lettersFor(user.assessmentId)).toHaveLength(0);
  });
});

/** The folder store, failing the first `failures` writes the way Storage does when it is down. */
class FlakyStore extends FsReportStore {
  failures: number;
  puts = 0;
  constructor(failures: number) {
    super({
      root: reportsDir,
      publicUrl: "http://127.0.0.1:9/reports/",
      linkSecret: randomBytes(32).toString("hex"),
    });
    this.failures = failures;
  }
  override async put(path: string, body: Uint8Array, contentType: string): Promise<void> {
    this.puts += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new ReportStorageError("Supabase Storage upload failed (HTTP 503): storage is down");
    }
    await super.put(path, body, contentType);
  }
}

describe("failures and retries", () => {
  it("a storage outage is retried and the report still arrives, once", async () => {
    const store = new FlakyStore(2);
    await startReportWorker({ store });
    const anna = await completedCheckup();

    const emails = await reportEmails(anna.email, 2);

    expect(emails).toHaveLength(1);
    expect(store.puts).toBe(3);
    expect(await reportRows(anna.assessmentId)).toHaveLength(1);
    expect(await deadLetters(pool, "report_generation_queue")).not.toContainEqual(
      expect.objectContaining({ message: expect.objectContaining({ assessment_id: anna.assessmentId }) }),
    );
  });

  it("a report job delivered again after it succeeded stores the same report and sends no second email", async () => {
    await startReportWorker();
    const anna = await completedCheckup();
    await reportEmails(anna.email, 2);
    const { rows } = await pool.query<{ message: object }>(
      "select message from pgmq.a_report_generation_queue where message ->> 'assessment_id' = $1",
      [anna.assessmentId],
    );

    // The same job again (a redelivery after a crash between storing and archiving).
    await sendRaw(pool, "report_generation_queue", rows[0]!.message);
    await waitFor(
      async () =>
        (
          await pool.query(
            "select 1 from pgmq.a_report_generation_queue where message ->> 'assessment_id' = $1",
            [anna.assessmentId],
          )
        ).rowCount === 2,
      { timeoutMs: 30_000, what: "the second delivery to be processed" },
    );
    await waitFor(async () => (await pool.query("select 1 from pgmq.q_email_queue")).rowCount === 0, {
      timeoutMs: 30_000,
      what: "the email queue to drain",
    });

    expect(await reportRows(anna.assessmentId)).toHaveLength(1);
    expect(smtp.messages().filter((m) => m.envelope.to.includes(anna.email))).toHaveLength(2);
  });

  it("request_assessment_report makes a new report and a new email", async () => {
    await startReportWorker();
    const anna = await completedCheckup();
    await reportEmails(anna.email, 2);

    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(
        "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
        [JSON.stringify({ sub: anna.id, role: "authenticated" })],
      );
      await client.query("select public.request_assessment_report($1)", [anna.assessmentId]);
      await client.query("commit");
    } finally {
      client.release();
    }

    const emails = await reportEmails(anna.email, 3);
    expect(emails).toHaveLength(2);
    const rows = await reportRows(anna.assessmentId);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((row) => row.storage_path)).size).toBe(2);
  });

  it("a PDF above REPORT_ATTACHMENT_MAX_BYTES is linked, not attached", async () => {
    await startReportWorker({ env: { REPORT_ATTACHMENT_MAX_BYTES: "1000" } });
    const anna = await completedCheckup();

    const [email] = await reportEmails(anna.email, 2);

    expect(email?.attachments).toEqual([]);
    expect(email?.text).toContain("Отчёт слишком большой, чтобы приложить его к письму");
    expect(email?.text).toMatch(/http:\/\/127\.0\.0\.1:9\/reports\/\S+\.pdf/);
  });
});
