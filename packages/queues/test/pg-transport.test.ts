import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasQueuedMessage, notifyChannel } from "../src/consumer/index.ts";
import { emailMessageSchema, QueueRpcError, queueEmailTask, trackEvent } from "../src/index.ts";
import { pgTransport } from "../src/pg/index.ts";
import {
  createUser,
  messagesWithKey,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

let database: QueueDatabase;

beforeAll(async () => {
  database = await openQueueDatabase();
});

afterAll(async () => {
  await database?.close();
});

const reportVariables = (assessmentId: string) => ({
  assessment_id: assessmentId,
  report_url: `https://app.balansity.ru/reports/${assessmentId}`,
});

describe("pgTransport", () => {
  it("queues an email the database completes from the recipient's profile", async () => {
    const { pool } = database;
    const user = await createUser(pool);
    await pool.query("update public.profiles set locale = 'en', timezone = 'Asia/Tokyo' where id = $1", [
      user.id,
    ]);
    const key = `pg-transport:${randomUUID()}`;
    const { msgId } = await queueEmailTask(pgTransport(pool), {
      to: user.email,
      template: "report_ready",
      variables: reportVariables(randomUUID()),
      idempotency_key: key,
      user_id: user.id,
    });
    const queued = await messagesWithKey(pool, "email_queue", key);
    expect(queued.map((row) => row.msg_id)).toEqual([msgId]);
    expect(emailMessageSchema.parse(queued[0]?.message)).toMatchObject({
      locale: "en",
      timezone: "Asia/Tokyo",
    });
  });

  it("leaves no message when the caller's transaction rolls back", async () => {
    const client = await database.pool.connect();
    const key = `pg-rollback:${randomUUID()}`;
    try {
      await client.query("begin");
      await trackEvent(pgTransport(client), { event: "report_generated", idempotency_key: key });
      expect(await messagesWithKey(database.pool, "analytics_queue", key)).toHaveLength(0);
      await client.query("rollback");
    } finally {
      client.release();
    }
    expect(await messagesWithKey(database.pool, "analytics_queue", key)).toHaveLength(0);
  });

  it("turns a refusal of the database into a QueueRpcError with its SQLSTATE", async () => {
    const error = await pgTransport(database.pool)
      .call("queue_payment_processing", { payment_id: randomUUID(), action: "chargeback" })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(QueueRpcError);
    expect(error).toMatchObject({
      rpc: "queue_payment_processing",
      sqlState: "22023",
      reason: "invalid_argument",
    });
  });

  it("refuses an argument the function does not have, before any query", async () => {
    let queries = 0;
    const counting = {
      query: async () => {
        queries += 1;
        return { rows: [], rowCount: 0 };
      },
    };
    await expect(
      pgTransport(counting).call("request_assessment_report", {
        assessment_id: randomUUID(),
        user: "x",
      } as never),
    ).rejects.toThrow(/request_assessment_report has no argument "user"/);
    expect(queries).toBe(0);
  });
});

describe("hasQueuedMessage", () => {
  it("finds a waiting message by the JSON it contains, and no longer once it is archived", async () => {
    const { pool } = database;
    const key = `queued:${randomUUID()}`;
    expect(await hasQueuedMessage(pool, "email_queue", { idempotency_key: key })).toBe(false);
    const { msgId } = await queueEmailTask(pgTransport(pool), {
      to: "anna@example.com",
      template: "report_ready",
      variables: reportVariables(randomUUID()),
      idempotency_key: key,
    });
    expect(await hasQueuedMessage(pool, "email_queue", { idempotency_key: key })).toBe(true);
    expect(await hasQueuedMessage(pool, "email_queue", { idempotency_key: `${key}-other` })).toBe(false);
    await pool.query("select pgmq.archive('email_queue', $1::bigint)", [msgId]);
    expect(await hasQueuedMessage(pool, "email_queue", { idempotency_key: key })).toBe(false);
  });

  it("refuses a queue outside the catalog, naming the field", async () => {
    await expect(hasQueuedMessage(database.pool, "x; drop table y" as never, {})).rejects.toThrow(/"queue"/);
  });
});

describe("notifyChannel", () => {
  it("is the channel a committed send notifies", async () => {
    const client = new pg.Client({ connectionString: database.db.url });
    await client.connect();
    try {
      const notified = new Promise<string | undefined>((resolve) =>
        client.on("notification", (message) => resolve(message.channel)),
      );
      await client.query(`listen "${notifyChannel("payment_processing_queue")}"`);
      await database.pool.query(
        "select pgmq.send('payment_processing_queue', jsonb_build_object('version', 1))",
      );
      expect(await notified).toBe("pgmq_payment_processing_queue");
    } finally {
      await client.end();
    }
  });
});
