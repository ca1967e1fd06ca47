import { randomUUID } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, sendRaw } from "./support/domain.ts";
import { startTestWorker, waitFor } from "./support/test-worker.ts";

// The payment provider answering 503 for longer than the queue's whole retry schedule: the payment
// queue pauses and probes the provider, the verify message keeps its attempts and succeeds after.

let db: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let yookassa: YooKassaStandIn;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  smtp = await startSmtpSink();
  yookassa = await startYooKassaStandIn();
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    random: () => 0,
    env: {
      PAYMENT_API_URL: yookassa.apiUrl,
      PAYMENT_SHOP_ID: yookassa.shopId,
      PAYMENT_SECRET_KEY: yookassa.secretKey,
      QUEUE_PAYMENT_PROCESSING_QUEUE_MAX_ATTEMPTS: "2",
      WORKER_PROBE_MAX_INTERVAL_MS: "200",
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await yookassa?.close();
  await smtp?.stop();
  await pool?.end();
  await db?.drop();
});

describe("the payment provider away for longer than the retry schedule", () => {
  it("pauses the payment queue, spends no attempts, and verifies the payment once the provider answers", async () => {
    const userId = randomUUID();
    const paymentId = randomUUID();
    const providerPayment = yookassa.putPayment({ status: "succeeded", paid: true });
    await pool.query(
      `insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{"full_name": "Анна", "locale": "ru"}')`,
      [userId, `payer-${userId.slice(0, 8)}@example.com`],
    );
    await pool.query(
      `insert into public.payments (id, user_id, amount, currency, provider, provider_payment_id)
       values ($1, $2, 1500, 'RUB', 'yookassa', $3)`,
      [paymentId, userId, providerPayment.id],
    );

    // 503 for the verify and for the next probes: far more failures than the two attempts allowed.
    const outage = 12;
    yookassa.failNext({ kind: "status", status: 503 }, outage);
    await sendRaw(pool, "payment_processing_queue", {
      version: 1,
      idempotency_key: `verify:${paymentId}`,
      payment_id: paymentId,
      action: "verify",
    });

    await waitFor(
      async () => {
        const response = await fetch(`${worker.url}/readyz`);
        const body = (await response.json()) as { failing: string[] };
        return body.failing.includes("paused:payment_provider");
      },
      { timeoutMs: 10_000, intervalMs: 20, what: "the payment queue paused" },
    );

    await waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>(
          "select status from public.payments where id = $1",
          [paymentId],
        );
        return rows[0]?.status === "completed";
      },
      { timeoutMs: 30_000, intervalMs: 50, what: "the payment completed after the outage" },
    );
    // Every injected failure was spent, most of them by probes, none by a second read of the message.
    expect(yookassa.requests.filter((request) => request.path === "/v3/me").length).toBeGreaterThanOrEqual(
      outage - 1,
    );
    expect(yookassa.requests.filter((request) => request.path.startsWith("/v3/payments/"))).toHaveLength(2);
    expect(await deadLetters(pool, "payment_processing_queue")).toEqual([]);
  });
});
