// The analytics processor against a real database (036_analytics_daily.sql): micro-batches written as
// one statement each, each idempotency key counted once ever, days in UTC. Runs as service_role.
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import type { QueueMessage } from "@balansity/queues";
import type { Queryable } from "@balansity/queues/consumer";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AnalyticsProcessor } from "../src/analytics/analytics-processor.ts";
import { PermanentError } from "../src/consumer/errors.ts";
import type { ProcessorContext } from "../src/consumer/processor.ts";

type AnalyticsMessage = QueueMessage<"analytics_queue">;

let db: TestDatabase;
let admin: pg.Pool;
let pool: pg.Pool;
/** Statements the processors sent, to see the batching. */
let statements = 0;
let counting: Queryable;

const silent = pino({ level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  // A session time zone far from UTC, so that counting on the UTC day is really tested.
  pool = new pg.Pool({
    connectionString: db.url,
    max: 4,
    options: "-c role=service_role -c timezone=Pacific/Kiritimati",
  });
  counting = {
    query: (text: string, values?: unknown[]) => {
      statements += 1;
      return pool.query(text, values);
    },
  } as Queryable;
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

beforeEach(async () => {
  statements = 0;
  await admin.query(
    "truncate analytics.daily_event_counts, analytics.daily_active_users, analytics.processed_events",
  );
});

function processor(options: { maxBatchSize?: number; maxDelayMs?: number } = {}) {
  return new AnalyticsProcessor({ db: counting, logger: silent, ...options });
}

function context(): ProcessorContext {
  return {
    queue: "analytics_queue",
    msgId: "1",
    attempt: 1,
    enqueuedAt: new Date(),
    logger: silent,
    signal: new AbortController().signal,
  };
}

function event(fields: Partial<AnalyticsMessage> = {}): AnalyticsMessage {
  return {
    version: 1,
    idempotency_key: randomUUID(),
    event: "checkup_completed",
    entity_id: randomUUID(),
    user_id: randomUUID(),
    occurred_at: "2026-03-01T12:00:00Z",
    properties: {},
    ...fields,
  };
}

async function counts(): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ day: string; event: string; events: string }>(
    "select day::text as day, event, events from analytics.daily_event_counts order by day, event",
  );
  return Object.fromEntries(rows.map((row) => [`${row.day} ${row.event}`, Number(row.events)]));
}

async function activeUsers(): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ day: string; users: string }>(
    "select day::text as day, users from analytics.daily_active_user_counts order by day",
  );
  return Object.fromEntries(rows.map((row) => [row.day, Number(row.users)]));
}

describe("AnalyticsProcessor", () => {
  it("turns 1,000 events into correct daily counts, in two statements of 500", async () => {
    const analytics = processor({ maxBatchSize: 500, maxDelayMs: 1_000 });
    const names = ["checkup_completed", "appointment_booked", "payment_completed", "email_sent"] as const;
    const days = ["2026-03-01", "2026-03-02", "2026-03-03"];
    const users = Array.from({ length: 37 }, () => randomUUID());
    const expectedCounts: Record<string, number> = {};
    const expectedUsers: Record<string, Set<string>> = {};
    const messages = Array.from({ length: 1_000 }, (_, i) => {
      const day = days[i % days.length] as string;
      const name = names[i % names.length] as (typeof names)[number];
      const user = i % 10 === 0 ? null : (users[i % users.length] as string);
      expectedCounts[`${day} ${name}`] = (expectedCounts[`${day} ${name}`] ?? 0) + 1;
      if (user) {
        expectedUsers[day] ??= new Set();
        expectedUsers[day].add(user);
      }
      const second = String(i % 60).padStart(2, "0");
      return event({ event: name, user_id: user, occurred_at: `${day}T10:15:${second}Z` });
    });

    await Promise.all(messages.map((message) => analytics.process(message, context())));

    expect(statements).toBe(2);
    expect(await counts()).toEqual(expectedCounts);
    expect(await activeUsers()).toEqual(
      Object.fromEntries(Object.entries(expectedUsers).map(([day, set]) => [day, set.size])),
    );
  });

  it("counts the same idempotency key twice in one batch once", async () => {
    const analytics = processor();
    const once = event();

    await Promise.all([analytics.process(once, context()), analytics.process({ ...once }, context())]);

    expect(statements).toBe(1);
    expect(await counts()).toEqual({ "2026-03-01 checkup_completed": 1 });
  });

  it("counts a key already counted in an earlier batch (a retried message) once", async () => {
    const analytics = processor();
    const retried = event({ event: "payment_completed" });
    await analytics.process(retried, context());

    await Promise.all([
      analytics.process(retried, context()),
      analytics.process(event({ event: "payment_completed" }), context()),
    ]);
    await analytics.process(retried, context());

    expect(statements).toBe(3);
    expect(await counts()).toEqual({ "2026-03-01 payment_completed": 2 });
  });

  it("writes a batch that does not fill up after maxDelayMs", async () => {
    const analytics = processor({ maxBatchSize: 500, maxDelayMs: 5 });

    await Promise.all([1, 2, 3].map(() => analytics.process(event(), context())));

    expect(statements).toBe(1);
    expect(await counts()).toEqual({ "2026-03-01 checkup_completed": 3 });
  });

  it("counts an event on the UTC day of occurred_at", async () => {
    const analytics = processor();

    await Promise.all([
      // 23:30 at UTC-2 is 01:30 the next day in UTC.
      analytics.process(event({ occurred_at: "2026-03-01T23:30:00-02:00" }), context()),
      // 01:00 in Moscow (UTC+3) is 22:00 the day before in UTC.
      analytics.process(event({ occurred_at: "2026-03-05T01:00:00+03:00" }), context()),
    ]);

    expect(await counts()).toEqual({
      "2026-03-02 checkup_completed": 1,
      "2026-03-04 checkup_completed": 1,
    });
  });

  it("counts each user once per day however many events they have; events without a user add no one", async () => {
    const analytics = processor();
    const user = randomUUID();

    await Promise.all([
      analytics.process(event({ user_id: user, event: "checkup_completed" }), context()),
      analytics.process(event({ user_id: user, event: "appointment_booked" }), context()),
      analytics.process(event({ user_id: null, event: "email_sent" }), context()),
      analytics.process(event({ user_id: user, occurred_at: "2026-03-02T08:00:00Z" }), context()),
    ]);
    await analytics.process(event({ user_id: user, event: "report_generated" }), context());

    expect(await activeUsers()).toEqual({ "2026-03-01": 1, "2026-03-02": 1 });
  });

  it("rejects every promise of a batch together when its statement fails, and the retry counts once", async () => {
    let fail = true;
    const flaky = {
      query: (text: string, values?: unknown[]) => {
        if (fail) return Promise.reject(Object.assign(new Error("connection terminated"), { code: "57P01" }));
        return pool.query(text, values);
      },
    } as Queryable;
    const analytics = new AnalyticsProcessor({ db: flaky, logger: silent });
    const batch = [event(), event(), event()];

    const results = await Promise.allSettled(batch.map((message) => analytics.process(message, context())));
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(await counts()).toEqual({});

    fail = false;
    await Promise.all(batch.map((message) => analytics.process(message, context())));
    await Promise.all(batch.map((message) => analytics.process(message, context())));
    expect(await counts()).toEqual({ "2026-03-01 checkup_completed": 3 });
  });

  it("fails only the event the database cannot store (invalid_event); the rest of its batch is counted", async () => {
    const analytics = processor();
    // Valid ISO 8601 for the message schema, but PostgreSQL has no year 0.
    const bad = event({ occurred_at: "0000-01-01T00:00:00Z" });

    const results = await Promise.allSettled([
      analytics.process(event(), context()),
      analytics.process(bad, context()),
      analytics.process(event(), context()),
    ]);

    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const reason = (results[1] as PromiseRejectedResult).reason as PermanentError;
    expect(reason).toBeInstanceOf(PermanentError);
    expect(reason.code).toBe("invalid_event");
    expect(await counts()).toEqual({ "2026-03-01 checkup_completed": 2 });
  });
});

describe("036_analytics_daily.sql", () => {
  it.each(["anon", "authenticated"])("%s can read nothing in schema analytics", async (role) => {
    const client = await admin.connect();
    try {
      await client.query("begin");
      await client.query(`set local role ${role}`);
      await expect(client.query("select * from analytics.daily_event_counts")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await client.query("rollback");
      client.release();
    }
  });

  it("has row level security on every table", async () => {
    const { rows } = await admin.query<{ relname: string; relrowsecurity: boolean }>(
      `select c.relname, c.relrowsecurity from pg_catalog.pg_class c
        where c.relnamespace = 'analytics'::regnamespace and c.relkind = 'r' order by c.relname`,
    );
    expect(rows).toEqual([
      { relname: "daily_active_users", relrowsecurity: true },
      { relname: "daily_event_counts", relrowsecurity: true },
      { relname: "processed_events", relrowsecurity: true },
    ]);
  });
});
