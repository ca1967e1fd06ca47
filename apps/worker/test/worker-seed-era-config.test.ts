// The seed-era worker's .env (SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, WORKER_INTERVAL_MS,
// MAX_TASKS_PER_CYCLE, EMAIL_PROVIDER, SMTP_FROM_NAME): each honoured with a warning that names the
// new variable, or refused with a problem that says what to set. The real worker process.
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { createUser, sendRaw } from "./support/domain.ts";
import { testWorkerEnv } from "./support/test-worker.ts";
import { runWorkerUntilExit, spawnWorkerProcess } from "./support/worker-process.ts";

const EX_CONFIG = 78;
/** Loading the TypeScript sources takes a while on a busy machine; the outcome is what is checked. */
const START_UP = { timeoutMs: 60_000 };
// Generated per run: never a real key.
const SERVICE_ROLE_KEY = `test-key-${Math.random().toString(36).slice(2)}`;

/** The old worker's .env, as the seed-era setup had it (credentials are made up here). */
const seedEraEnv = {
  SUPABASE_URL: "https://project-ref.supabase.co",
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
  SMTP_HOST: "127.0.0.1",
  SMTP_FROM: "noreply@balansity.test",
  SMTP_FROM_NAME: "Little Otter",
};

describe("a seed-era .env without DATABASE_URL", () => {
  it("exits 78 saying which connection string to take and where it is in the dashboard", async () => {
    const result = await runWorkerUntilExit(seedEraEnv, START_UP);

    expect(result.code).toBe(EX_CONFIG);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("- "));
    expect(problems).toHaveLength(1);
    const [help] = problems;
    expect(help).toContain("DATABASE_URL");
    expect(help).toContain("SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY");
    expect(help).toContain("Session pooler");
    expect(help).toContain("5432");
    expect(help).toContain("Connect");
    expect(help).toContain("LISTEN");
    expect(result.stdout + result.stderr).not.toContain(SERVICE_ROLE_KEY);
  });

  it("refuses MAX_TASKS_PER_CYCLE and an EMAIL_PROVIDER other than smtp, naming what replaces them", async () => {
    const result = await runWorkerUntilExit(
      { ...seedEraEnv, MAX_TASKS_PER_CYCLE: "10", EMAIL_PROVIDER: "resend" },
      START_UP,
    );

    expect(result.code).toBe(EX_CONFIG);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("- "));
    expect(problems).toHaveLength(3);
    expect(problems.find((line) => line.includes("MAX_TASKS_PER_CYCLE"))).toMatch(/QUEUE_<QUEUE>_BATCH_SIZE/);
    expect(problems.find((line) => line.includes("EMAIL_PROVIDER"))).toMatch(/"resend".*SMTP_HOST/);
  });

  it("refuses WORKER_INTERVAL_MS when WORKER_POLL_INTERVAL_MS says otherwise", () => {
    expect(() =>
      loadConfig({
        ...seedEraEnv,
        DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/postgres",
        WORKER_INTERVAL_MS: "5000",
        WORKER_POLL_INTERVAL_MS: "1000",
      }),
    ).toThrow(/WORKER_INTERVAL_MS .*disagree/);
  });
});

describe("a seed-era .env with DATABASE_URL added", () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let smtp: SmtpSink;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
    smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  });
  afterAll(async () => {
    await smtp?.stop();
    await pool?.end();
    await db?.drop();
  });

  it("honours WORKER_INTERVAL_MS and EMAIL_PROVIDER=smtp with warnings naming the new variables, and sends as SMTP_FROM_NAME", async () => {
    const env = {
      ...testWorkerEnv({ databaseUrl: db.url, smtpPort: smtp.smtpPort }),
      ...seedEraEnv,
      WORKER_INTERVAL_MS: "5000",
      EMAIL_PROVIDER: "smtp",
      LOG_LEVEL: "info",
    };
    delete (env as Record<string, string>).WORKER_POLL_INTERVAL_MS;
    expect(loadConfig(env).pollIntervalMs).toBe(5000);

    const worker = await spawnWorkerProcess(env, { readyTimeoutMs: START_UP.timeoutMs });
    try {
      const warnings = worker.logs.filter((line) => line.level === 40).map((line) => String(line.msg));
      expect(warnings.find((msg) => msg.startsWith("WORKER_INTERVAL_MS"))).toMatch(/WORKER_POLL_INTERVAL_MS/);
      expect(warnings.find((msg) => msg.startsWith("EMAIL_PROVIDER"))).toMatch(/SMTP_HOST/);

      const user = await createUser(pool, { fullName: "Иван" });
      await sendRaw(pool, "email_queue", {
        version: 1,
        idempotency_key: `seed-era-config:${user.id}`,
        to: user.email,
        template: "checkup_completed",
        priority: 0,
        variables: { assessment_id: user.id, user_name: "Иван" },
      });
      const [mail] = await smtp.waitForMessages(1, { to: user.email, timeoutMs: 20_000 });
      expect(mail?.headers.from).toContain("Little Otter");
    } finally {
      await worker.stop();
    }
  });
});
