import { applyMigrations, installPlatform, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength } from "./support/domain.ts";
import { ownPostgres, type Postgres } from "./support/own-postgres.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

const TO = "killed-postgres@example.com";
const COUNT = 400;

// A cluster of its own: killing it must not take the other test files' databases away. Durable:
// a crash must not lose committed rows, this test is about recovery.
const own = ownPostgres("killed", { durability: "durable" });

let postgres: Postgres | undefined;
let pool: pg.Pool;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  postgres = await own.start(0);
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
  own.remove();
});

describe("PostgreSQL killed with SIGKILL part-way through a backlog", () => {
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
          return await own.start(port);
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
