import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  analyticsMessageSchema,
  emailMessageSchema,
  paymentMessageSchema,
  QueueRpcError,
  queueEmailTask,
  queuePaymentProcessing,
  queueReportGeneration,
  reportMessageSchema,
  trackEvent,
} from "../src/index.ts";
import { kyselyTransport } from "../src/kysely/index.ts";
import {
  createAssessment,
  createUser,
  messagesIn,
  messagesWithKey,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

let database: QueueDatabase;
let db: Kysely<unknown>;

beforeAll(async () => {
  database = await openQueueDatabase();
  db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: database.pool }) });
});

afterAll(async () => {
  await database?.close();
});

const reportVariables = (assessmentId: string) => ({
  assessment_id: assessmentId,
  report_url: `https://app.balansity.ru/reports/${assessmentId}`,
});

describe("kyselyTransport inside the caller's transaction", () => {
  it("leaves no message when the transaction rolls back", async () => {
    const key = `rollback:${randomUUID()}`;
    const rolledBack = new Error("the caller's work failed");
    await expect(
      db.transaction().execute(async (trx) => {
        const { msgId } = await queueEmailTask(kyselyTransport(trx), {
          to: "anna@example.com",
          template: "report_ready",
          variables: reportVariables(randomUUID()),
          idempotency_key: key,
        });
        expect(msgId).toBeGreaterThan(0);
        // Visible inside the transaction ...
        const inside = await sql<{
          n: string;
        }>`select count(*) as n from pgmq.q_email_queue where message->>'idempotency_key' = ${key}`.execute(
          trx,
        );
        expect(Number(inside.rows[0]?.n)).toBe(1);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    // ... and gone with it.
    expect(await messagesWithKey(database.pool, "email_queue", key)).toEqual([]);
  });

  it("leaves exactly one message when the transaction commits", async () => {
    const key = `commit:${randomUUID()}`;
    const msgId = await db.transaction().execute(async (trx) => {
      const result = await queueEmailTask(kyselyTransport(trx), {
        to: "anna@example.com",
        template: "report_ready",
        variables: reportVariables(randomUUID()),
        idempotency_key: key,
      });
      return result.msgId;
    });
    const rows = await messagesWithKey(database.pool, "email_queue", key);
    expect(rows.map((row) => row.msg_id)).toEqual([msgId]);
  });
});

describe("messages the producers make through SQL parse with the catalog", () => {
  it("email: the database fills version, locale, timezone from the profile", async () => {
    const user = await createUser(database.pool);
    await database.pool.query(
      "update public.profiles set locale = 'en', timezone = 'Asia/Tokyo' where id = $1",
      [user.id],
    );
    const { msgId } = await queueEmailTask(kyselyTransport(db), {
      to: user.email,
      template: "report_ready",
      variables: reportVariables(randomUUID()),
      user_id: user.id,
    });
    const row = (await messagesIn(database.pool, "email_queue")).find((message) => message.msg_id === msgId);
    const parsed = emailMessageSchema.parse(row?.message);
    expect(parsed).toMatchObject({
      version: 1,
      to: user.email,
      locale: "en",
      timezone: "Asia/Tokyo",
      priority: 0,
    });
    expect(parsed.idempotency_key.length).toBeGreaterThan(0);
  });

  it("report, payment and analytics", async () => {
    const user = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, user.id);
    const transport = kyselyTransport(db);

    const report = await queueReportGeneration(transport, { assessment_id: assessmentId, user_id: user.id });
    const payment = await queuePaymentProcessing(transport, { payment_id: randomUUID(), action: "verify" });
    const event = await trackEvent(transport, {
      event: "report_requested",
      entity_id: assessmentId,
      user_id: user.id,
      properties: { source: "test", tags: ["a", "b"] },
    });

    const find = async (queue: string, msgId: number) =>
      (await messagesIn(database.pool, queue)).find((row) => row.msg_id === msgId)?.message;
    expect(reportMessageSchema.parse(await find("report_generation_queue", report.msgId))).toMatchObject({
      assessment_id: assessmentId,
      report_type: "pdf",
      requested_by: "service",
    });
    expect(paymentMessageSchema.parse(await find("payment_processing_queue", payment.msgId)).action).toBe(
      "verify",
    );
    expect(analyticsMessageSchema.parse(await find("analytics_queue", event.msgId)).properties).toEqual({
      source: "test",
      tags: ["a", "b"],
    });
  });
});

describe("kyselyTransport errors", () => {
  it("turns a refusal of the database into a QueueRpcError with its SQLSTATE", async () => {
    // Past the producer's checks: the transport called directly with an argument SQL refuses.
    const error = await kyselyTransport(db)
      .call("queue_payment_processing", { payment_id: randomUUID(), action: "chargeback" })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(QueueRpcError);
    expect(error).toMatchObject({
      rpc: "queue_payment_processing",
      sqlState: "22023",
      reason: "invalid_argument",
    });
    expect((error as QueueRpcError).message).toMatch(/action "chargeback" is unknown/);
  });

  it("refuses an argument the function does not have", async () => {
    await expect(
      kyselyTransport(db).call("request_assessment_report", {
        assessment_id: randomUUID(),
        user: "x",
      } as never),
    ).rejects.toThrow(/request_assessment_report has no argument "user"/);
  });
});
