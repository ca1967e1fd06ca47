import { createServer } from "node:net";
import { applyMigrations, installPlatform, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { emailMessage, sendRaw } from "./support/domain.ts";
import { ownPostgres, type Postgres } from "./support/own-postgres.ts";
import { readiness, startTestWorker, testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

// A cluster of its own that does not exist yet when the worker starts.
const own = ownPostgres("late");
let postgres: Postgres | undefined;
let smtp: SmtpSink;
let worker: RunningWorker | undefined;
let child: WorkerProcess | undefined;
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  smtp = await startSmtpSink();
});

afterAll(async () => {
  await child?.kill();
  await worker?.stop();
  await smtp?.stop();
  await postgres?.cluster.stop();
  own.remove();
});

describe("the worker started while the database is not there", () => {
  it("stays up, answers /readyz 503 with the reason, and starts consuming once PostgreSQL and the migrations are there", async () => {
    const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    worker = await startTestWorker({
      databaseUrl,
      smtpPort: smtp.smtpPort,
      env: { WORKER_PROBE_MAX_INTERVAL_MS: "500", WORKER_SCHEDULER: "auto" },
    });
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const down = await readiness(worker.url);
    expect(down.status).toBe(503);
    expect(down.failing.join(" ")).toMatch(/^database: .*ECONNREFUSED/);

    postgres = await own.start(port);
    expect(postgres.cluster.port).toBe(port);
    // Reachable, but not migrated yet: still not ready, and it says why.
    await waitFor(
      async () => (await readiness(worker!.url)).failing.some((problem) => problem.includes("missing")),
      { timeoutMs: 15_000, intervalMs: 50, what: "/readyz naming the missing queues" },
    );
    await installPlatform(databaseUrl);
    await applyMigrations(databaseUrl);

    await waitFor(async () => (await readiness(worker!.url)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: "/readyz 200 once the database is migrated",
    });
    const pool = new pg.Pool({ connectionString: databaseUrl });
    try {
      await sendRaw(pool, "email_queue", emailMessage("late-database@example.com", "late-database:1"));
      const mails = await smtp.waitForMessages(1, { timeoutMs: 10_000, to: "late-database@example.com" });
      expect(mails).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });

  it("a worker process pointed at an unknown database keeps running, logs what is wrong, and is not ready", async () => {
    const databaseUrl = `postgres://postgres@127.0.0.1:${port}/no_such_database`;
    child = await spawnWorkerProcess({
      ...testWorkerEnv({ databaseUrl, smtpPort: smtp.smtpPort }),
      LOG_LEVEL: "info",
      WORKER_SCHEDULER: "auto",
      WORKER_PROBE_MAX_INTERVAL_MS: "200",
    });
    const ready = await readiness(child.url);
    expect(ready.status).toBe(503);
    expect(ready.failing.join(" ")).toContain('database "no_such_database" does not exist');
    // Several tries later it is still there, and each try said what was wrong.
    await waitFor(
      () => child!.logs.filter((line) => String(line.problem ?? "").includes("no_such_database")).length >= 3,
      { timeoutMs: 10_000, what: "three logged tries" },
    );
    const exit = await Promise.race([
      child.exited,
      new Promise((resolve) => setTimeout(resolve, 100, "running")),
    ]);
    expect(exit).toBe("running");
  });
});
