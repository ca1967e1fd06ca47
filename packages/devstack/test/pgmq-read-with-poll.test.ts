import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

interface MessageRow {
  msg_id: string;
  read_ct: number;
  message: unknown;
}

let db: TestDatabase;
let poller: pg.Client;
let sender: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("platform");
  poller = new pg.Client({ connectionString: db.url, application_name: "pgmq-poller" });
  sender = new pg.Client({ connectionString: db.url });
  await Promise.all([poller.connect(), sender.connect()]);
});

afterAll(async () => {
  await Promise.all([poller?.end(), sender?.end()]);
  await db?.drop();
});

/** Waits until the poller's read_with_poll is running on the server, so a send lands mid-poll. */
async function pollerIsWaiting(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rowCount } = await sender.query(
      `select 1 from pg_stat_activity
       where application_name = 'pgmq-poller' and state = 'active' and query like '%read_with_poll%'`,
    );
    if (rowCount) return;
    if (Date.now() > deadline) throw new Error("read_with_poll never started");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("pgmq read_with_poll", () => {
  it("returns a message that is sent while it is polling, well before max_poll_seconds", async () => {
    await sender.query("select pgmq.create('polled')");
    const started = Date.now();
    const polling = poller.query<MessageRow>("select * from pgmq.read_with_poll('polled', 30, 5, 20, 50)");
    await pollerIsWaiting();
    await sender.query(`select pgmq.send('polled', '{"arrived":"mid-poll"}')`);
    const { rows } = await polling;
    expect(rows.map((row) => [row.message, row.read_ct])).toEqual([[{ arrived: "mid-poll" }, 1]]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("returns messages already there at once, honouring qty", async () => {
    await sender.query("select pgmq.create('polled_ready')");
    await sender.query(
      `select pgmq.send_batch('polled_ready', array['{"n":1}','{"n":2}','{"n":3}']::jsonb[])`,
    );
    const started = Date.now();
    const { rows } = await poller.query<MessageRow>(
      "select * from pgmq.read_with_poll('polled_ready', 30, 2)",
    );
    expect(rows.map((row) => row.message)).toEqual([{ n: 1 }, { n: 2 }]);
    // far below the default max_poll_seconds (5): it did not poll
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("returns no rows after max_poll_seconds when nothing arrives", async () => {
    await sender.query("select pgmq.create('polled_empty')");
    const started = Date.now();
    const { rows } = await poller.query<MessageRow>(
      "select * from pgmq.read_with_poll('polled_empty', 30, 1, 1, 50)",
    );
    const elapsed = Date.now() - started;
    expect(rows).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(4_000);
  });

  it("filters with the conditional argument while polling", async () => {
    await sender.query("select pgmq.create('polled_conditional')");
    const polling = poller.query<MessageRow>(
      `select * from pgmq.read_with_poll('polled_conditional', 30, 5, 20, 50, '{"kind":"wanted"}')`,
    );
    await pollerIsWaiting();
    await sender.query(`select pgmq.send('polled_conditional', '{"kind":"other"}')`);
    await sender.query(`select pgmq.send('polled_conditional', '{"kind":"wanted"}')`);
    const { rows } = await polling;
    expect(rows.map((row) => row.message)).toEqual([{ kind: "wanted" }]);
  });
});
