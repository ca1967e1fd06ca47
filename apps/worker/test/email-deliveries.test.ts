import { randomUUID } from "node:crypto";
import { createDb } from "@balansity/db";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeliveryClaim, EmailDeliveries } from "../src/email/email-deliveries.ts";

let db: TestDatabase;
let pool: pg.Pool;
const statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => undefined);
  // Every statement the delivery log sends, as text.
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      statements.push(typeof first === "string" ? first : (first.text ?? ""));
      return query(...args);
    };
  });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const claim = (key: string, overrides: Partial<DeliveryClaim> = {}): DeliveryClaim => ({
  idempotencyKey: key,
  msgId: "1",
  template: "checkup_completed",
  recipient: "anna@example.com",
  leaseSeconds: 60,
  ...overrides,
});

async function statusOf(key: string) {
  const { rows } = await pool.query<{
    status: string;
    smtp_message_id: string | null;
    attempts: number;
    resends: number;
  }>(
    "select status, smtp_message_id, attempts, resends from automation.email_deliveries where idempotency_key = $1",
    [key],
  );
  return rows[0];
}

describe("EmailDeliveries", () => {
  it("claims what one turn asks for in one statement, with each claim's own answer", async () => {
    const deliveries = new EmailDeliveries(createDb(pool));
    const [fresh, sent, sending, expired, failed] = Array.from({ length: 5 }, () => randomUUID());
    await pool.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, lease_until, attempts, sent_at)
       values ($1, 1, 't', 'a@example.com', 'sent', null, 1, now()),
              ($2, 1, 't', 'a@example.com', 'sending', now() + interval '1 minute', 1, null),
              ($3, 1, 't', 'a@example.com', 'sending', now() - interval '1 second', 1, null),
              ($4, 1, 't', 'a@example.com', 'failed', null, 1, null)`,
      [sent, sending, expired, failed],
    );
    statements.length = 0;

    const results = await Promise.all(
      [fresh, sent, sending, expired, failed, fresh].map((key) => deliveries.claim(claim(key as string))),
    );

    expect(results).toEqual(["claimed", "already_sent", "in_progress", "claimed", "claimed", "in_progress"]);
    // The insert for all of them, then one look at the keys that were not claimed.
    expect(statements.filter((text) => /email_deliveries/.test(text))).toHaveLength(2);
    expect(await statusOf(fresh as string)).toMatchObject({ status: "sending", attempts: 1, resends: 0 });
    // An expired claim without a result may have reached the server: taking it over is a resend.
    expect(await statusOf(expired as string)).toMatchObject({ status: "sending", attempts: 2, resends: 1 });
    // A failed attempt was refused by the server: the next one is a retry, not a resend.
    expect(await statusOf(failed as string)).toMatchObject({ status: "sending", attempts: 2, resends: 0 });
  });

  it("records the emails one turn saw accepted in one statement, each with its own Message-ID", async () => {
    const deliveries = new EmailDeliveries(createDb(pool));
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    await Promise.all(keys.map((key) => deliveries.claim(claim(key))));
    statements.length = 0;

    await Promise.all(
      keys.map((key, index) => deliveries.markSent(key, { messageId: `<m${index}@x>`, response: "250 OK" })),
    );

    expect(statements).toHaveLength(1);
    for (const [index, key] of keys.entries()) {
      expect(await statusOf(key)).toMatchObject({ status: "sent", smtp_message_id: `<m${index}@x>` });
    }
  });

  it("records what is accepted while a record is being written at the end of its own turn, not behind it", async () => {
    const deliveries = new EmailDeliveries(createDb(pool));
    const [first, ...later] = [randomUUID(), randomUUID(), randomUUID()];
    await Promise.all([first, ...later].map((key) => deliveries.claim(claim(key as string))));
    // Another session holds the first row: its record stays in flight until that session commits.
    const locker = await pool.connect();
    try {
      await locker.query("begin");
      await locker.query("select 1 from automation.email_deliveries where idempotency_key = $1 for update", [
        first,
      ]);
      statements.length = 0;
      const blocked = deliveries.markSent(first as string, { messageId: "<first@x>", response: "250 OK" });
      const recorded: Promise<void>[] = [];
      // Each acceptance in a turn of its own, as SMTP replies come.
      for (const [index, key] of later.entries()) {
        await new Promise((resolve) => setImmediate(resolve));
        recorded.push(deliveries.markSent(key, { messageId: `<later${index}@x>`, response: "250 OK" }));
      }
      // The later ones are durable while the first is still being written: a crash now resends one email.
      await Promise.all(recorded);
      // One update per turn: the blocked one and one for each later acceptance.
      expect(statements.filter((text) => /update automation\.email_deliveries/.test(text))).toHaveLength(
        1 + later.length,
      );
      for (const key of later) expect(await statusOf(key)).toMatchObject({ status: "sent" });
      expect(await statusOf(first as string)).toMatchObject({ status: "sending" });
      await locker.query("commit");
      await blocked;
    } finally {
      // Closed, not returned: a failed expectation must not leave an open transaction in the pool.
      locker.release(true);
    }
    expect(await statusOf(first as string)).toMatchObject({ status: "sent" });
  });

  it("fails only the claim the database refuses; its neighbours in the batch are claimed", async () => {
    const deliveries = new EmailDeliveries(createDb(pool));
    const good = [randomUUID(), randomUUID()];
    const bad = randomUUID();

    const results = await Promise.allSettled([
      deliveries.claim(claim(good[0] as string)),
      deliveries.claim(claim(bad, { msgId: "not a number" })),
      deliveries.claim(claim(good[1] as string)),
    ]);

    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[0]).toMatchObject({ value: "claimed" });
    expect(results[2]).toMatchObject({ value: "claimed" });
    expect(await statusOf(bad)).toBeUndefined();
  });
});
