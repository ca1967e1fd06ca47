// The smoke scenario against a stack the test starts: a migrated and seeded database, the SMTP
// sink and the worker as its own process (as `pnpm dev` runs it); then the CLI's exit codes.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import {
  type EdgeFunctions,
  edgeFunctionNames,
  startEdgeFunctions,
} from "@balansity/devstack/edge-functions";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSmokeConfig, runSmoke, SmokeStepError } from "../src/index.ts";

const execFileAsync = promisify(execFile);
const repo = join(import.meta.dirname, "..", "..", "..");
const cli = join(import.meta.dirname, "..", "src", "smoke-cli.ts");

let db: TestDatabase;
let idle: TestDatabase;
let smtp: SmtpSink;
/** The sink of the database no worker consumes. */
let idleSmtp: SmtpSink;
let worker: ChildProcess;
let scratch: string;
let workerLog = "";
let api: PostgrestRpc;
let yookassa: YooKassaStandIn;
let functions: EdgeFunctions;

/** The stand-in's credentials, as `devstack env` gives them. */
function paymentEnv(): Record<string, string> {
  return {
    PAYMENT_API_URL: yookassa.apiUrl,
    PAYMENT_SHOP_ID: yookassa.shopId,
    PAYMENT_SECRET_KEY: yookassa.secretKey,
  };
}

async function seeded(): Promise<TestDatabase> {
  const database = await createTestDatabase("migrated");
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(await readFile(join(repo, "supabase", "seed.sql"), "utf8"));
  } finally {
    await client.end();
  }
  return database;
}

beforeAll(async () => {
  [db, idle] = await Promise.all([seeded(), seeded()]);
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  idleSmtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  scratch = await mkdtemp(join(tmpdir(), "smoke-reports-"));
  // The money path as `pnpm dev` serves it: the API, the stand-in and the Edge Functions under Deno.
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
  yookassa = await startYooKassaStandIn();
  functions = await startEdgeFunctions({
    names: edgeFunctionNames,
    env: {
      SUPABASE_URL: api.url,
      SUPABASE_ANON_KEY: api.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: api.serviceRoleKey,
      ...paymentEnv(),
      PAYMENT_IP_CHECK: "off",
      // The unsubscribe function starts with the others (edgeFunctionNames); its key is made per run.
      UNSUBSCRIBE_SECRET: randomJwtSecret(),
      PAYMENT_RETURN_URL: "http://localhost:5173/payments/done",
    },
  });
  yookassa.setNotificationUrl(`${functions.url}/yookassa-webhook`);
  worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: join(repo, "apps", "worker"),
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.smtpPort),
      SMTP_SECURE: "none",
      SMTP_FROM: "noreply@balansity.local",
      WORKER_HTTP_HOST: "127.0.0.1",
      WORKER_HTTP_PORT: "0",
      WORKER_SCHEDULER: "off",
      WORKER_POLL_INTERVAL_MS: "250",
      REPORT_FS_DIR: scratch,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  worker.stdout?.on("data", (chunk: Buffer) => {
    workerLog += chunk.toString();
  });
  worker.stderr?.on("data", (chunk: Buffer) => {
    workerLog += chunk.toString();
  });
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.kill("SIGTERM");
    await exited;
  }
  await functions?.stop();
  await yookassa?.close();
  await api?.stop();
  await smtp?.stop();
  await idleSmtp?.stop();
  await db?.drop();
  await idle?.drop();
  await rm(scratch, { recursive: true, force: true });
});

describe("pnpm smoke", () => {
  it("walks the verification list: checkup, both emails with the PDF, booking, receipt", async () => {
    const lines: string[] = [];
    const config = loadSmokeConfig({
      DATABASE_URL: db.url,
      SMTP_SINK_URL: smtp.url,
      SMOKE_STEP_TIMEOUT_MS: "120000",
      ...paymentEnv(),
    });

    const results = await runSmoke(config, (line) => lines.push(line)).catch((error: unknown) => {
      throw new Error(`${String(error)}\nworker log:\n${workerLog}`);
    });

    expect(results.map((result) => result.step)).toEqual([
      "the stack answers",
      "complete the seeded checkup",
      "checkup_completed email",
      "report_ready email with the PDF",
      "book an appointment -> confirmation email",
      "payment through yookassa-webhook -> receipt email",
    ]);
    expect(results[5]?.detail).toContain("completed by the webhook");
    expect(yookassa.deliveries.map((delivery) => delivery.status)).toEqual([200]);
    expect(results[1]?.detail).toContain("aaaaaaaa-0000-4000-8000-000000000001");
    expect(results[3]?.detail).toContain("names Анна Иванова and every score");
    expect(lines).toHaveLength(6);
    expect(lines[3]).toMatch(/^\[smoke\] 4\/6 report_ready email with the PDF: ok in \d+ ms/);
  });

  it("a second run completes a new checkup like the seeded one and passes again", async () => {
    const config = loadSmokeConfig({
      DATABASE_URL: db.url,
      SMTP_SINK_URL: smtp.url,
      SMOKE_STEP_TIMEOUT_MS: "120000",
      ...paymentEnv(),
    });
    const results = await runSmoke(config, () => undefined);
    expect(results).toHaveLength(6);
    expect(results[1]?.detail).not.toContain("aaaaaaaa-0000-4000-8000-000000000001");
  });

  it("without the YooKassa stand-in, reports the payment step as not run", async () => {
    const config = loadSmokeConfig({
      DATABASE_URL: db.url,
      SMTP_SINK_URL: smtp.url,
      SMOKE_STEP_TIMEOUT_MS: "120000",
    });
    const lines: string[] = [];
    const results = await runSmoke(config, (line) => lines.push(line));
    expect(results.at(-1)?.detail).toMatch(/^not run: no YooKassa stand-in/);
    expect(lines.at(-1)).toMatch(
      /^\[smoke\] 6\/6 payment through yookassa-webhook -> receipt email: NOT RUN/,
    );
  });

  it("names the first step that fails: no worker consumes this database, and earlier runs' emails for the same seeded ids do not count", async () => {
    const config = loadSmokeConfig({
      DATABASE_URL: idle.url,
      SMTP_SINK_URL: smtp.url,
      SMOKE_STEP_TIMEOUT_MS: "1500",
      ...paymentEnv(),
    });

    const error = await runSmoke(config, () => undefined).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(SmokeStepError);
    expect((error as SmokeStepError).step).toBe("checkup_completed email");
  });

  it("the CLI prints each step and exits 1 naming the failed step", async () => {
    const result = await execFileAsync(process.execPath, ["--import", "tsx", cli], {
      cwd: join(import.meta.dirname, ".."),
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: idle.url,
        SMTP_SINK_URL: smtp.url,
        SMOKE_STEP_TIMEOUT_MS: "1500",
        ...paymentEnv(),
      },
    }).then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (failure: { code: number; stdout: string; stderr: string }) => failure,
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\[smoke\] 1\/6 the stack answers: ok in \d+ ms/);
    expect(result.stderr).toContain('[smoke] FAILED: step "checkup_completed email" failed');
  });

  it("the CLI exits 78 listing what is missing when there is no stack and no environment", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "smoke-no-devstack-"));
    const result = await execFileAsync(process.execPath, ["--import", "tsx", cli], {
      cwd: join(import.meta.dirname, ".."),
      env: { PATH: process.env.PATH, DEVSTACK_DIR: emptyDir },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (failure: { code: number; stderr: string }) => failure,
    );
    await rm(emptyDir, { recursive: true, force: true });

    expect(result.code).toBe(78);
    expect(result.stderr).toContain("DATABASE_URL");
    expect(result.stderr).toContain("SMTP_SINK_URL");
  });
});
