// The operator alerts end to end (migration 052 and the worker): a running worker process records its
// heartbeat; a dead letter makes check_alerts fire; the worker sends the operator_alert email to the
// SMTP sink and POSTs the webhook to a real HTTP server (retrying a failure); a second check sends
// nothing more; SIGTERM marks the worker stopped and the next check raises no_worker.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

const OPERATOR = "ops@example.com";

let db: TestDatabase;
let pool: pg.Pool;
let sink: SinkProcess;
let hookServer: Server;
let worker: WorkerProcess | undefined;
/** The webhook's secret part, as in a Slack-style URL: must never reach a log. */
const token = randomBytes(12).toString("hex");
let hookUrl: string;
const posts: Array<{ path: string; contentType: string | undefined; body: Record<string, unknown> }> = [];
/** Status codes to answer the next POSTs with (then 204). */
const answers: number[] = [];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  sink = await spawnSmtpSinkProcess({ maxMessages: 50 });
  hookServer = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      posts.push({
        path: request.url ?? "",
        contentType: request.headers["content-type"],
        body: JSON.parse(body) as Record<string, unknown>,
      });
      response.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks/${token}`;

  await pool.query(
    `update automation.settings set value = case key
       when 'alerts_email_to' then $1
       when 'alerts_webhook_url' then $2
       when 'alerts_dlq_threshold' then '1'
       when 'alerts_oldest_message_age' then ''
       when 'alerts_worker_silence' then '2 minutes'
     end
     where key in ('alerts_email_to', 'alerts_webhook_url', 'alerts_dlq_threshold',
                   'alerts_oldest_message_age', 'alerts_worker_silence')`,
    [OPERATOR, hookUrl],
  );
});

afterAll(async () => {
  await worker?.kill();
  await sink?.kill();
  await new Promise((resolve) => hookServer?.close(resolve));
  await pool?.end();
  await db?.drop();
});

async function checkAlerts(): Promise<{ firing: string[]; notified: string[]; emails: number }> {
  return (await pool.query("select automation.check_alerts() as r")).rows[0].r;
}

async function operatorEmails(): Promise<Array<{ subject: string; text: string | null }>> {
  const response = await fetch(`${sink.url}/messages?to=${encodeURIComponent(OPERATOR)}`);
  return (await response.json()) as Array<{ subject: string; text: string | null }>;
}

async function heartbeats() {
  const result = await pool.query<{
    worker_id: string;
    pid: number;
    version: string;
    stopped_at: Date | null;
  }>("select worker_id, pid, version, stopped_at from automation.worker_heartbeats");
  return result.rows;
}

describe("operator alerts with a running worker", () => {
  it("records the worker's heartbeat, shown in its /healthz", async () => {
    worker = await spawnWorkerProcess(
      {
        ...testWorkerEnv({ databaseUrl: db.url, smtpPort: sink.smtpPort }),
        LOG_LEVEL: "info",
      },
      { readyTimeoutMs: 90_000 },
    );
    const rows = await waitFor(
      async () => {
        const found = await heartbeats();
        return found.length === 1 ? found : undefined;
      },
      { timeoutMs: 20_000, what: "the worker's heartbeat row" },
    );
    expect(rows[0]).toMatchObject({ pid: worker.pid, version: "0.1.0", stopped_at: null });

    const health = (await (await fetch(`${worker.url}/healthz`)).json()) as {
      heartbeat: { worker_id: string; last_beat_at: string | null };
    };
    expect(health.heartbeat.worker_id).toBe(rows[0]!.worker_id);
    expect(health.heartbeat.last_beat_at).not.toBeNull();
    // A live worker: no_worker does not fire.
    expect((await checkAlerts()).firing).toEqual([]);
  });

  it("emails the operators and POSTs the webhook once when a dead letter arrives, retrying a failed POST", async () => {
    answers.push(500);
    await pool.query("select pgmq.send('email_queue_dlq', $1::jsonb)", [
      JSON.stringify({ version: 1, queue: "email_queue", error: { code: "test", message: "boom" } }),
    ]);
    expect(await checkAlerts()).toMatchObject({
      firing: ["dead_letters:email_queue_dlq"],
      notified: ["dead_letters:email_queue_dlq"],
      emails: 1,
    });

    const emails = await waitFor(
      async () => {
        const found = await operatorEmails();
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, what: "the operator_alert email in the SMTP sink" },
    );
    expect(emails).toHaveLength(1);
    expect(emails[0]!.subject).toBe("Balansity: тревога dead_letters:email_queue_dlq");
    expect(emails[0]!.text).toContain("1 new dead letters in email_queue_dlq");

    // The first POST answered 500: the outbox row waits for its retry.
    await waitFor(() => posts.length >= 1, { timeoutMs: 20_000, what: "the first webhook POST" });
    const failed = await waitFor(
      async () => {
        const rows = (await pool.query("select last_error, attempts from automation.alert_webhooks")).rows;
        return rows[0]?.last_error ? rows : undefined;
      },
      { what: "the failed POST recorded" },
    );
    expect(failed).toEqual([{ last_error: "HTTP 500", attempts: 1 }]);
    // A minute passes (the first retry's delay).
    await pool.query("update automation.alert_webhooks set next_attempt_at = now()");
    await waitFor(
      async () => {
        const rows = (await pool.query("select delivered_at from automation.alert_webhooks")).rows;
        return rows[0]?.delivered_at;
      },
      { timeoutMs: 20_000, what: "the webhook delivered on its retry" },
    );

    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.path).toBe(`/hooks/${token}`);
      expect(post.contentType).toBe("application/json");
      expect(post.body).toMatchObject({
        source: "balansity",
        condition: "dead_letters:email_queue_dlq",
        status: "firing",
      });
    }

    // Checked again a minute later, still true: nothing more queued.
    expect(await checkAlerts()).toMatchObject({ notified: [], emails: 0 });
    const outbox = await pool.query("select count(*)::int as n from automation.alert_webhooks");
    expect(outbox.rows[0].n).toBe(1);
    const queued = await pool.query(
      "select count(*)::int as n from automation.email_deliveries where template = 'operator_alert'",
    );
    expect(queued.rows[0].n).toBe(1);

    // The webhook's secret path was never logged.
    expect(JSON.stringify(worker!.logs)).not.toContain(token);
    expect(worker!.logs.some((line) => line.msg === "alert webhook delivered")).toBe(true);
  });

  it("marks the worker stopped on SIGTERM, and the next check raises no_worker", async () => {
    const exit = await worker!.stop();
    expect(exit.code).toBe(0);
    const rows = await heartbeats();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.stopped_at).not.toBeNull();

    const result = await checkAlerts();
    expect(result.notified).toEqual(["no_worker"]);
    // No pg_net in this database: recorded, and waiting for a worker to deliver it.
    const pending = await pool.query(
      "select count(*)::int as n from automation.alert_webhooks where condition = 'no_worker' and delivered_at is null",
    );
    expect(pending.rows[0].n).toBe(1);
  });
});
