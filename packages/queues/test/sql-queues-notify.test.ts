import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { queueNames } from "../src/catalog.ts";

// Worker wake-ups (031_setup_queues.sql): a statement trigger on each pgmq.q_<queue> notifies
// channel pgmq_<queue> with the queue name, once per committed transaction, never for a rollback.
//
// To know that every notification a transaction could have sent has arrived, the producer sends a
// marker on another channel after it; one session's notifications arrive in commit order, so once
// the marker is in, anything else from before it is too. No sleeping.

const CHANNELS = queueNames.map((queue) => `pgmq_${queue}`);
const MARKER = "test_marker";

let db: TestDatabase;
let producer: pg.Client;
let listener: pg.Client;
let received: pg.Notification[] = [];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  producer = new pg.Client({ connectionString: db.url });
  listener = new pg.Client({ connectionString: db.url });
  await Promise.all([producer.connect(), listener.connect()]);
  listener.on("notification", (notification) => received.push(notification));
  for (const channel of [...CHANNELS, MARKER]) await listener.query(`listen ${channel}`);
});

afterAll(async () => {
  await producer?.end();
  await listener?.end();
  await db?.drop();
});

beforeEach(() => {
  received = [];
});

/** Sends the marker and waits (with a deadline) until it arrives; returns what came before it. */
async function drain(timeoutMs = 10_000): Promise<{ channel: string; payload: string | undefined }[]> {
  const marker = `m${Date.now()}${Math.random()}`;
  await producer.query("select pg_notify($1, $2)", [MARKER, marker]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = received.findIndex((n) => n.channel === MARKER && n.payload === marker);
    if (index >= 0) {
      return received.slice(0, index).map(({ channel, payload }) => ({ channel, payload }));
    }
    if (Date.now() > deadline) throw new Error("the marker notification did not arrive within the deadline");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sendEmail = "select public.queue_email_task('anna@example.com', null, 'report_ready')";

it("notifies pgmq_email_queue once for a transaction that queues three emails", async () => {
  await producer.query("begin");
  for (let i = 0; i < 3; i += 1) await producer.query(sendEmail);
  await producer.query("commit");
  expect(await drain()).toEqual([{ channel: "pgmq_email_queue", payload: "email_queue" }]);
});

it("notifies again for the next transaction", async () => {
  await producer.query(sendEmail);
  await producer.query(sendEmail);
  expect(await drain()).toEqual([
    { channel: "pgmq_email_queue", payload: "email_queue" },
    { channel: "pgmq_email_queue", payload: "email_queue" },
  ]);
});

it("sends nothing for a rolled-back transaction", async () => {
  await producer.query("begin");
  await producer.query(sendEmail);
  await producer.query("rollback");
  expect(await drain()).toEqual([]);
});

it("still notifies when the first send was rolled back to a savepoint and a later one committed", async () => {
  await producer.query("begin");
  await producer.query("savepoint s");
  await producer.query(sendEmail);
  await producer.query("rollback to savepoint s");
  await producer.query(sendEmail);
  await producer.query("commit");
  expect(await drain()).toEqual([{ channel: "pgmq_email_queue", payload: "email_queue" }]);
});

it("notifies each queue a transaction sends to, on its own channel", async () => {
  await producer.query("begin");
  await producer.query(sendEmail);
  await producer.query("select public.track_event('email_sent')");
  await producer.query("select public.queue_payment_processing(gen_random_uuid(), 'verify')");
  await producer.query("select public.queue_report_generation(gen_random_uuid(), gen_random_uuid())");
  await producer.query("select public.track_event('email_sent')");
  await producer.query("commit");
  const notifications = await drain();
  expect(notifications.map((n) => n.channel).sort()).toEqual([...CHANNELS].sort());
  expect(notifications.every((n) => n.channel === `pgmq_${n.payload}`)).toBe(true);
});

it("notifies for a plain pgmq.send_batch too (the cron reminders use it)", async () => {
  await producer.query(`select pgmq.send_batch('email_queue', array['{"a": 1}', '{"a": 2}']::jsonb[])`);
  expect(await drain()).toEqual([{ channel: "pgmq_email_queue", payload: "email_queue" }]);
});

it("does not notify for the dead-letter queues", async () => {
  await producer.query(`select pgmq.send('email_queue_dlq', '{"x": 1}')`);
  expect(await drain()).toEqual([]);
});
