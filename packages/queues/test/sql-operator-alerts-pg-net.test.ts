// The operator alerts of migration 052 where pg_net exists (Supabase), with the devstack's pg_net
// stand-in: net.http_post of pg_net's signature records the request, and a dispatcher sends it over
// real HTTP to a node:http server. With no worker alive, check_alerts POSTs the webhooks from the
// database and the worker's outbox never sends them again; with a worker alive, or when
// net.http_post fails, they wait in the outbox as without pg_net.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  installPgNetStandIn,
  type PgNetDispatcher,
  startPgNetDispatcher,
} from "@balansity/devstack/pg-net-stand-in";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

let db: TestDatabase;
let pool: pg.Pool;
let server: Server;
let dispatcher: PgNetDispatcher;
const posts: Array<{ path: string; contentType: string | undefined; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  await installPgNetStandIn(pool);
  server = createServer((request, response) => {
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
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`;
  await pool.query(
    `update automation.settings set value = case key
       when 'alerts_email_to' then 'ops@example.com'
       when 'alerts_webhook_url' then $1
       when 'alerts_dlq_threshold' then '1'
       when 'alerts_oldest_message_age' then ''
       when 'alerts_worker_silence' then '2 minutes'
     end
     where key in ('alerts_email_to', 'alerts_webhook_url', 'alerts_dlq_threshold',
                   'alerts_oldest_message_age', 'alerts_worker_silence')`,
    [url],
  );
  dispatcher = startPgNetDispatcher({ pool, pollMs: 50 });
});

afterAll(async () => {
  await dispatcher?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  await pool.query(`
    delete from automation.alert_state;
    delete from automation.alert_webhooks;
    delete from automation.worker_heartbeats;
    delete from pgmq.q_email_queue_dlq;
  `);
  await installPgNetStandIn(pool);
  posts.length = 0;
});

async function check(): Promise<{ firing: string[]; notified: string[]; resolved: string[] }> {
  return (await pool.query("select automation.check_alerts() as r")).rows[0].r;
}

async function beat(stopped: boolean): Promise<void> {
  await pool.query("select public.worker_heartbeat('host-a:4242:abc', 'host-a', 4242, '1.2.3', now(), $1)", [
    stopped,
  ]);
}

async function deadLetter(): Promise<void> {
  await pool.query("select pgmq.send('email_queue_dlq', $1::jsonb)", [
    JSON.stringify({ version: 1, queue: "email_queue", error: { code: "test", message: "boom" } }),
  ]);
}

async function outbox(): Promise<Array<{ condition: string; pg_net_request_id: string | null }>> {
  const result = await pool.query(
    "select condition, pg_net_request_id::text from automation.alert_webhooks order by condition",
  );
  return result.rows;
}

async function claimed(): Promise<unknown[]> {
  return (await pool.query("select * from public.alert_webhooks_claim(10, 60)")).rows;
}

async function waitForPosts(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (posts.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} POSTs, got ${posts.length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("check_alerts with pg_net", () => {
  it("POSTs the no_worker alert from the database when the worker has stopped, and the outbox does not send it again", async () => {
    // What a worker leaves behind at its clean shutdown; no worker process runs in this test.
    await beat(true);
    await deadLetter();

    const result = await check();
    expect(result.notified.sort()).toEqual(["dead_letters:email_queue_dlq", "no_worker"]);

    // Both webhooks of that check went out through pg_net: no worker is there to deliver the outbox.
    await waitForPosts(2);
    const byCondition = new Map(posts.map((post) => [post.body.condition, post]));
    expect(byCondition.get("no_worker")).toMatchObject({
      path: "/hooks/alerts",
      contentType: "application/json",
      body: { source: "balansity", condition: "no_worker", status: "firing" },
    });
    expect(String(byCondition.get("no_worker")!.body.summary)).toContain("no worker is running");
    expect(byCondition.get("dead_letters:email_queue_dlq")?.body).toMatchObject({ status: "firing" });

    const rows = await outbox();
    expect(rows.map((row) => row.condition)).toEqual(["dead_letters:email_queue_dlq", "no_worker"]);
    for (const row of rows) expect(row.pg_net_request_id).not.toBeNull();
    const responses = await pool.query(
      "select id::text, status_code from net._http_response where id = any($1)",
      [rows.map((row) => row.pg_net_request_id)],
    );
    expect(responses.rows.map((row) => row.status_code)).toEqual([204, 204]);

    // A worker that comes back finds nothing of these to send: no double delivery.
    expect(await claimed()).toEqual([]);
    const console = await pool.query("select public.console_alerts() -> 'webhooks_pending' as pending");
    expect(console.rows[0].pending).toBe(0);

    // It returns: no_worker resolves, and that notice goes to the worker's outbox.
    await beat(false);
    expect((await check()).resolved).toEqual(["no_worker"]);
    const resolvedRow = (await outbox()).filter((row) => row.pg_net_request_id === null);
    expect(resolvedRow).toEqual([{ condition: "no_worker", pg_net_request_id: null }]);
    expect(await claimed()).toHaveLength(1);
    await dispatcher.dispatchOnce();
    expect(posts).toHaveLength(2);
  });

  it("leaves the webhooks to the worker's outbox while a worker is alive", async () => {
    await beat(false);
    await deadLetter();
    expect((await check()).notified).toEqual(["dead_letters:email_queue_dlq"]);
    expect(await outbox()).toEqual([{ condition: "dead_letters:email_queue_dlq", pg_net_request_id: null }]);
    await dispatcher.dispatchOnce();
    expect(posts).toEqual([]);
    expect(await claimed()).toHaveLength(1);
  });

  it("keeps the webhook in the outbox for a worker when net.http_post fails", async () => {
    await pool.query(`
      create or replace function net.http_post(url text, body jsonb default '{}'::jsonb,
        params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
        timeout_milliseconds integer default 5000)
      returns bigint language plpgsql as $$
      begin
        raise exception 'the pg_net background worker must be up when doing requests';
      end;
      $$`);
    expect((await check()).notified).toEqual(["no_worker"]);
    expect(await outbox()).toEqual([{ condition: "no_worker", pg_net_request_id: null }]);
    expect(await claimed()).toHaveLength(1);
  });
});
