// The wake-up protocol of supabase/migrations/038_trigger_wakeups.sql: a producer skips its NOTIFY
// only while a consumer of the queue is busy and none waits, and a consumer going to sleep never
// misses a message whose NOTIFY was skipped. Absence of a notification is shown with a sentinel:
// notifications arrive in commit order, so once the sentinel sent after the producer's commit
// arrives, anything the producer sent has arrived too.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { leaveConsumer, markConsumerBusy, markConsumerWaiting } from "../src/consumer/index.ts";
import { openQueueDatabase, type QueueDatabase } from "./support/queue-database.ts";

let database: QueueDatabase;
let listener: pg.Client;
let received: string[] = [];

beforeAll(async () => {
  database = await openQueueDatabase();
  listener = new pg.Client({ connectionString: database.db.url });
  await listener.connect();
  listener.on("notification", (notification) => received.push(notification.channel));
  await listener.query('listen "pgmq_analytics_queue"');
  await listener.query('listen "sentinel"');
});

afterAll(async () => {
  await listener?.end();
  await database?.close();
});

afterEach(async () => {
  await database.pool.query("delete from automation.queue_consumers");
  await database.pool.query("select pgmq.purge_queue('analytics_queue')");
});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The channels notified by one committed transaction that queues an analytics event. */
async function notificationsOfOneSend(): Promise<string[]> {
  received = [];
  await database.pool.query("select public.track_event('email_sent')");
  await database.pool.query("select pg_notify('sentinel', '')");
  await waitFor(() => received.includes("sentinel"), "the sentinel");
  return received.filter((channel) => channel !== "sentinel");
}

const consumer = (state: "busy" | "waiting", id: string, lease = 60) =>
  state === "busy"
    ? markConsumerBusy(database.pool, "analytics_queue", id, lease)
    : markConsumerWaiting(database.pool, "analytics_queue", id, lease);

describe("producers wake only a consumer that may sleep", () => {
  it("notifies when no consumer takes part in the protocol (a worker that does not know it)", async () => {
    expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
  });

  it("skips the NOTIFY while a consumer is busy", async () => {
    await consumer("busy", "worker-1");
    expect(await notificationsOfOneSend()).toEqual([]);
  });

  it("notifies when one consumer is busy and another waits", async () => {
    await consumer("busy", "worker-1");
    await consumer("waiting", "worker-2");
    expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
  });

  it("notifies again once a busy consumer's lease has run out (a consumer that died)", async () => {
    await consumer("busy", "worker-1");
    await database.pool.query(
      "update automation.queue_consumers set expires_at = now() - interval '1 second'",
    );
    expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
  });

  it("notifies again after the busy consumer leaves", async () => {
    await consumer("busy", "worker-1");
    await leaveConsumer(database.pool, "analytics_queue", "worker-1");
    expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
  });
});

describe("a consumer going to sleep", () => {
  it("says whether a visible message is already waiting", async () => {
    const id = `worker-${randomUUID()}`;
    const waiting = () => markConsumerWaiting(database.pool, "analytics_queue", id, 60);
    expect(await waiting()).toBe(false);
    await database.pool.query("select public.track_event('email_sent')");
    expect(await waiting()).toBe(true);
  });

  it("waits for a producer that skipped its NOTIFY and then finds its message", async () => {
    await consumer("busy", "worker-1");
    const producer = await database.pool.connect();
    const sleeper = await database.pool.connect();
    try {
      await producer.query("begin");
      await producer.query("select public.track_event('email_sent')");
      const { rows } = await sleeper.query<{ pid: number }>("select pg_backend_pid() as pid");
      const going = markConsumerWaiting(sleeper, "analytics_queue", "worker-1", 60, 10_000);
      // The consumer blocks on the producer's lock until the producer commits.
      await waitFor(async () => {
        const blocked = await database.pool.query(
          "select from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'",
          [rows[0]?.pid],
        );
        return blocked.rowCount === 1;
      }, "the sleeping consumer to wait for the producer");
      await producer.query("commit");
      expect(await going).toBe(true);
    } finally {
      producer.release();
      sleeper.release();
    }
  });

  it("does not wait longer than max_wait_ms for a long producer transaction, nor hold other producers", async () => {
    await consumer("busy", "worker-1");
    const longProducer = await database.pool.connect();
    try {
      await longProducer.query("begin");
      await longProducer.query("select public.track_event('email_sent')");
      // The long producer's message is not committed: nothing visible yet, and the consumer sleeps.
      expect(await markConsumerWaiting(database.pool, "analytics_queue", "worker-1", 60, 50)).toBe(false);
      // A producer after it sees the consumer waiting and notifies.
      expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
    } finally {
      await longProducer.query("rollback");
      longProducer.release();
    }
  });

  it("makes a producer that comes after it notify", async () => {
    await consumer("busy", "worker-1");
    await consumer("waiting", "worker-1");
    expect(await notificationsOfOneSend()).toEqual(["pgmq_analytics_queue"]);
  });

  it("refuses bad arguments before any query, naming them", async () => {
    await expect(markConsumerBusy(database.pool, "emails" as never, "", 0)).rejects.toThrow(
      'markConsumerBusy: "queue" must be one of email_queue, report_generation_queue, payment_processing_queue, analytics_queue; markConsumerBusy: "consumerId" must not be empty; markConsumerBusy: "leaseSeconds" must be 1 to 3600 seconds',
    );
  });

  it("refuses an unknown queue, a missing consumer id and a lease out of range in SQL too, naming them", async () => {
    await expect(database.pool.query("select public.pgmq_consumer_busy('emails', 'w', 30)")).rejects.toThrow(
      'pgmq_consumer_busy: queue_name "emails" is not a queue',
    );
    await expect(
      database.pool.query("select public.pgmq_consumer_waiting('analytics_queue', '', 30)"),
    ).rejects.toThrow("pgmq_consumer_waiting: consumer_id must be 1 to 200 characters");
    await expect(
      database.pool.query("select public.pgmq_consumer_busy('analytics_queue', 'w', 0)"),
    ).rejects.toThrow("pgmq_consumer_busy: lease_seconds must be 1 to 3600 (got 0)");
  });

  it("is for service_role only", async () => {
    for (const role of ["anon", "authenticated"]) {
      const client = await database.pool.connect();
      try {
        await client.query("begin");
        await client.query(`set local role ${role}`);
        await expect(
          client.query("select public.pgmq_consumer_busy('analytics_queue', 'w', 30)"),
        ).rejects.toMatchObject({ code: "42501" });
      } finally {
        await client.query("rollback");
        client.release();
      }
    }
    const client = await database.pool.connect();
    try {
      await client.query("begin");
      await client.query("set local role service_role");
      await client.query("select public.pgmq_consumer_busy('analytics_queue', 'w', 30)");
      // A service_role producer reads the consumers in the trigger.
      await client.query("select pgmq.send('analytics_queue', '{}'::jsonb)");
    } finally {
      await client.query("rollback");
      client.release();
    }
  });
});
