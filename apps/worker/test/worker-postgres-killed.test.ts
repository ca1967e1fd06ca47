import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyMigrations,
  installPlatform,
  parsePostgresChoice,
  type SmtpSink,
  startPostgres,
  startSmtpSink,
} from "@balansity/devstack";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

type Postgres = Awaited<ReturnType<typeof startPostgres>>;

const TO = "killed-postgres@example.com";
const COUNT = 400;

// A cluster of its own: killing it must not take the other test files' databases away.
const root = mkdtempSync(join(tmpdir(), "balansity-pg-killed-"));
chmodSync(root, 0o755); // the server runs as the postgres OS user when we are root
const dataDir = join(root, "data");
const logFile = join(root, "postgres.log");

let postgres: Postgres | undefined;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;

function start(port: number): Promise<Postgres> {
  return startPostgres({
    dataDir,
    logFile,
    port,
    durability: "durable", // a crash must not lose committed rows: this test is about recovery
    choice: parsePostgresChoice(process.env.DEVSTACK_POSTGRES),
    pgBin: process.env.PG_BIN,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  postgres = await start(0);
  const url = postgres.cluster.adminUrl;
  await installPlatform(url);
  await applyMigrations(url);
  pool = new pg.Pool({ connectionString: url });
  // Our own connections die with the server too.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  smtp = await startSmtpSink();
  worker = await startTestWorker({
    databaseUrl: url,
    smtpPort: smtp.smtpPort,
    env: { WORKER_PROBE_MAX_INTERVAL_MS: "300", WORKER_POLL_INTERVAL_MS: "250" },
  });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await pool?.end();
  await postgres?.cluster.stop().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describe("PostgreSQL killed with SIGKILL while a batch is in flight", () => {
  it("delivers every email exactly once after the server is started again", async () => {
    const keys = Array.from({ length: COUNT }, (_, i) => `killed:${i}`);
    // One transaction: the whole backlog is there before the worker starts on it.
    const messages = keys.map((key) => JSON.stringify(emailMessage(TO, key, { subject: key })));
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [messages]);

    // Mid-batch: some delivered, most still queued or in flight.
    await waitFor(() => smtp.messages().length >= 20, {
      timeoutMs: 20_000,
      intervalMs: 5,
      what: "20 emails",
    });
    const pid = postgres!.cluster.pid;
    const port = postgres!.cluster.port;
    process.kill(pid, "SIGKILL");
    const deliveredAtKill = smtp.messages().length;
    expect(deliveredAtKill).toBeLessThan(COUNT);
    // The postmaster's children notice its death and exit; the shared memory is then free again.
    await waitFor(() => !isAlive(pid), { what: "the postmaster gone" });
    await waitFor(
      async () => {
        const response = await fetch(`${worker!.url}/readyz`);
        return response.status === 503;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: "/readyz 503 after the kill" },
    );

    postgres = await waitFor(
      async () => {
        try {
          return await start(port);
        } catch {
          return undefined; // orphaned backends still hold the shared memory for a moment
        }
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "PostgreSQL started again after the crash" },
    );
    const restartedAt = performance.now();

    await waitFor(() => new Set(smtp.messages().map((message) => message.subject)).size === COUNT, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `all ${COUNT} emails after the restart`,
    });
    await waitFor(async () => (await queueLength(pool, "email_queue").catch(() => -1)) === 0, {
      timeoutMs: 20_000,
      what: "an empty email_queue",
    });
    console.info(
      `[postgres-killed] ${deliveredAtKill} delivered before the kill; all ${COUNT} ${Math.round(performance.now() - restartedAt)} ms after the restart`,
    );

    const subjects = smtp.messages().map((message) => message.subject);
    expect(subjects).toHaveLength(COUNT);
    expect(new Set(subjects).size).toBe(COUNT);
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});
