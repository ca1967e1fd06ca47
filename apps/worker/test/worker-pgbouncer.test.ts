/**
 * The worker process through a real PgBouncer: transaction mode (Supabase's port 6543: no LISTEN,
 * no session state) must poll and say so once; session mode (port 5432) is woken by LISTEN.
 */
import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, devstackInfo, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PgBouncer,
  pgbouncerUnavailable,
  startPgBouncer,
} from "../../../packages/db/test/support/pgbouncer.ts";
import { emailMessage } from "./support/domain.ts";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

const missing = pgbouncerUnavailable();
const COUNT = 20;
const POLLING_LINE = "transaction pool mode: LISTEN is unavailable, polling for new messages";

describe.skipIf(missing !== undefined).each([
  // Transaction mode: only polling can find the messages.
  { mode: "transaction", pollIntervalMs: "200" },
  // Session mode: a 10-minute backstop poll, so only LISTEN can wake the worker in time.
  { mode: "session", pollIntervalMs: "600000" },
] as const)("the worker through PgBouncer in $mode mode", ({ mode, pollIntervalMs }) => {
  let bouncer: PgBouncer | undefined;
  let db: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  let sink: SinkProcess | undefined;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    const info = devstackInfo();
    bouncer = await startPgBouncer({ mode, serverHost: info.host, serverPort: info.port });
    db = await createTestDatabase("migrated");
    pool = new pg.Pool({ connectionString: db.url });
    sink = await spawnSmtpSinkProcess({ maxMessages: 2 * COUNT });
  });
  afterAll(async () => {
    await worker?.kill();
    await sink?.kill();
    await pool?.end();
    await bouncer?.stop();
    await db?.drop();
  });

  it(`delivers every email, ${mode === "transaction" ? "polling and saying so once" : "woken by LISTEN"}, and stops cleanly`, async () => {
    const to = `pgbouncer-${mode}@example.com`;
    worker = await spawnWorkerProcess({
      ...testWorkerEnv({ databaseUrl: bouncer!.url(db!.url), smtpPort: sink!.smtpPort }),
      DATABASE_POOL_MODE: mode,
      WORKER_POLL_INTERVAL_MS: pollIntervalMs,
      LOG_LEVEL: "info",
    });
    const messages = Array.from({ length: COUNT }, (_, i) =>
      JSON.stringify(emailMessage(to, `pgbouncer-${mode}:${i}`, { subject: `message ${i}` })),
    );
    await pool!.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [messages]);

    await waitFor(
      async () => {
        const response = await fetch(`${sink!.url}/messages?to=${encodeURIComponent(to)}`);
        return ((await response.json()) as unknown[]).length === COUNT;
      },
      { timeoutMs: 60_000, what: `${COUNT} emails through PgBouncer (${mode} mode)` },
    );
    const polling = worker.logs.filter((line) => line.msg === POLLING_LINE);
    expect(polling).toHaveLength(mode === "transaction" ? 1 : 0);

    const exit = await worker.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    const { rows } = await pool!.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from automation.email_deliveries group by status",
    );
    expect(rows).toEqual([{ status: "sent", n: COUNT }]);
  });
});

if (missing) {
  describe("the worker through PgBouncer", () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
