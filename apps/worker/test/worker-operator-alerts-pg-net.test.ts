// A dead worker announced without a worker (migration 052 where pg_net exists), end to end: a real
// worker process stops (SIGTERM); check_alerts, with the devstack's pg_net stand-in in the database,
// POSTs the no_worker alert from the database and the stand-in's dispatcher sends it to a real HTTP
// server while no worker runs. A worker that starts again does not send that alert a second time, and
// delivers the resolution notice through its outbox.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { spawnSmtpSinkProcess } from "@balansity/devstack";
import {
  installPgNetStandIn,
  type PgNetDispatcher,
  startPgNetDispatcher,
} from "@balansity/devstack/pg-net-stand-in";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

interface Post {
  readonly userAgent: string | undefined;
  readonly body: { condition?: string; status?: string; summary?: string; source?: string };
}

let db: TestDatabase;
let pool: pg.Pool;
let sink: SinkProcess;
let hookServer: Server;
let dispatcher: PgNetDispatcher;
let worker: WorkerProcess | undefined;
const posts: Post[] = [];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  await installPgNetStandIn(pool);
  sink = await spawnSmtpSinkProcess({ maxMessages: 50 });
  hookServer = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      posts.push({ userAgent: request.headers["user-agent"], body: JSON.parse(body) as Post["body"] });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks/alerts`;
  await pool.query(
    `update automation.settings set value = case key
       when 'alerts_email_to' then 'ops@example.com'
       when 'alerts_webhook_url' then $1
       when 'alerts_dlq_threshold' then ''
       when 'alerts_oldest_message_age' then ''
       when 'alerts_worker_silence' then '2 minutes'
     end
     where key in ('alerts_email_to', 'alerts_webhook_url', 'alerts_dlq_threshold',
                   'alerts_oldest_message_age', 'alerts_worker_silence')`,
    [hookUrl],
  );
  dispatcher = startPgNetDispatcher({ pool, pollMs: 100 });
});

afterAll(async () => {
  await worker?.kill();
  await dispatcher?.stop();
  await sink?.kill();
  await new Promise((resolve) => hookServer?.close(resolve));
  await pool?.end();
  await db?.drop();
});

async function checkAlerts(): Promise<{ firing: string[]; notified: string[]; resolved: string[] }> {
  return (await pool.query("select automation.check_alerts() as r")).rows[0].r;
}

async function startWorker(): Promise<WorkerProcess> {
  const started = await spawnWorkerProcess(
    { ...testWorkerEnv({ databaseUrl: db.url, smtpPort: sink.smtpPort }), LOG_LEVEL: "info" },
    { readyTimeoutMs: 90_000 },
  );
  await waitFor(
    async () => {
      const live = await pool.query(
        "select 1 from automation.worker_heartbeats where pid = $1 and stopped_at is null",
        [started.pid],
      );
      return live.rowCount === 1 ? true : undefined;
    },
    { timeoutMs: 20_000, what: "the worker's heartbeat row" },
  );
  return started;
}

function postsOf(condition: string, status: string): Post[] {
  return posts.filter((post) => post.body.condition === condition && post.body.status === status);
}

describe("no_worker with pg_net", () => {
  it("POSTs the no_worker alert from the database after the worker stopped, with no worker running", async () => {
    worker = await startWorker();
    expect((await checkAlerts()).firing).toEqual([]);
    expect((await worker.stop()).code).toBe(0);
    worker = undefined;

    expect((await checkAlerts()).notified).toEqual(["no_worker"]);
    const [post] = await waitFor(
      async () => {
        const found = postsOf("no_worker", "firing");
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 15_000, what: "the no_worker POST" },
    );
    expect(post).toMatchObject({ userAgent: "balansity-database", body: { source: "balansity" } });
    expect(post!.body.summary).toContain("no worker is running");
    const row = await pool.query(
      "select pg_net_request_id from automation.alert_webhooks where condition = 'no_worker'",
    );
    expect(row.rows).toEqual([{ pg_net_request_id: expect.any(String) }]);
  });

  it("a worker that comes back does not POST it again, and delivers the resolution through its outbox", async () => {
    worker = await startWorker();
    expect((await checkAlerts()).resolved).toEqual(["no_worker"]);
    const [resolved] = await waitFor(
      async () => {
        const found = postsOf("no_worker", "resolved");
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, what: "the worker's POST of the resolution" },
    );
    expect(resolved!.userAgent).toBe("balansity-worker");
    // The worker's claims since it started would have included the pg_net row had it been claimable.
    expect(postsOf("no_worker", "firing")).toHaveLength(1);
    // The worker records the delivery just after the server answered.
    await waitFor(
      async () => {
        const pending = await pool.query(
          "select count(*)::int as n from automation.alert_webhooks where delivered_at is null and pg_net_request_id is null",
        );
        return pending.rows[0].n === 0 ? true : undefined;
      },
      { timeoutMs: 10_000, what: "the resolution recorded as delivered" },
    );
  });
});
