import { Writable } from "node:stream";
import { startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProcessors } from "../src/build-processors.ts";
import { loadConfig } from "../src/config/load-config.ts";
import { ThrottledError } from "../src/consumer/errors.ts";
import { TransportBreaker } from "../src/consumer/transport-breaker.ts";
import { budgetWindowResetAt } from "../src/email/send-budget.ts";
import { startWorker } from "../src/worker.ts";
import { deadLetters, emailMessage } from "./support/domain.ts";
import { testWorkerEnv, waitFor } from "./support/test-worker.ts";

// Under a send budget, a throttled SMTP pause lasts until the budget's window reopens (when its
// oldest send leaves the window), not only a back-off of seconds.

const throttled = () => new ThrottledError("smtp", "smtp_throttled", "SMTP 451: 4.7.1 Too many messages");

/** A logger whose lines are kept, to read the pause the breaker chose. */
function keptLogger(level: "warn" | "info" = "warn") {
  const lines: { msg?: string; pause_ms?: number; until_window_resets?: boolean }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** A breaker whose warnings are kept, to read the pause it chose. */
function breakerWith(options: {
  readonly throttleResumeAt?: () => Promise<Date | undefined>;
  readonly maxThrottleDelayMs?: number;
}) {
  const { logger, lines } = keptLogger();
  let probes = 0;
  const breaker = new TransportBreaker({
    name: "smtp",
    logger,
    probe: async () => {
      probes += 1;
    },
    ...options,
  });
  return { breaker, lines, probes: () => probes };
}

describe("a throttled pause under a send budget", () => {
  it("lasts until the window reopens when that is later than the back-off, and ends without a probe", async () => {
    const { breaker, lines, probes } = breakerWith({
      throttleResumeAt: async () => new Date(Date.now() + 1_500),
    });
    breaker.trip(throttled());
    await breaker.whenClosed();
    const pause = lines.find((line) => line.pause_ms !== undefined);
    expect(pause?.until_window_resets).toBe(true);
    expect(pause?.pause_ms).toBeGreaterThan(1_000);
    expect(pause?.pause_ms).toBeLessThanOrEqual(1_500);
    expect(probes()).toBe(0);
    breaker.stop();
  });

  it("never pauses longer than SMTP_THROTTLE_MAX_PAUSE_SECONDS", async () => {
    const { breaker, lines } = breakerWith({
      throttleResumeAt: async () => new Date(Date.now() + 60_000),
      maxThrottleDelayMs: 1_200,
    });
    breaker.trip(throttled());
    await breaker.whenClosed();
    expect(lines.find((line) => line.pause_ms !== undefined)).toMatchObject({
      pause_ms: 1_200,
      until_window_resets: true,
    });
    breaker.stop();
  });

  it("falls back to the back-off when the window's end is unknown or cannot be read", async () => {
    for (const throttleResumeAt of [
      async () => undefined,
      () => Promise.reject(new Error("database away")),
    ]) {
      const { breaker, lines } = breakerWith({ throttleResumeAt });
      breaker.trip(throttled());
      await breaker.whenClosed();
      expect(lines.find((line) => line.pause_ms !== undefined)).toMatchObject({
        pause_ms: 1_000,
        until_window_resets: false,
      });
      breaker.stop();
    }
  });
});

describe("budgetWindowResetAt", () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase("migrated");
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("is when the oldest send inside the window leaves it (window plus margin), for this account only", async () => {
    const budget = {
      account: "smtp.example.ru/noreply@example.ru",
      limit: 5,
      windowSeconds: 10,
      marginSeconds: 1,
    };
    expect(await budgetWindowResetAt(pool, budget)).toBeUndefined();

    const now = Date.now();
    const slot = (account: string, agoMs: number, msgId: number) =>
      pool.query(
        `insert into automation.email_send_slots (account, reserved_at, msg_id, idempotency_key, tier, user_key)
         values ($1, $2, $3, $4, 1, 'u')`,
        [account, new Date(now - agoMs), msgId, `reset:${msgId}`],
      );
    await slot(budget.account, 30_000, 1); // outside the window: gone from the count
    await slot(budget.account, 5_000, 2); // the oldest inside
    await slot(budget.account, 2_000, 3);
    await slot("other.example.ru/a@example.ru", 8_000, 4); // another account

    const reset = await budgetWindowResetAt(pool, budget);
    expect(reset?.getTime()).toBe(now - 5_000 + 11_000);
  });
});

describe("a worker under a send budget that the server throttles", { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase("migrated");
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("pauses until the budget's window reopens, then delivers every email once with no dead letter", async () => {
    // The provider counts 4 in 6 s; the budget believes 10 in 6 s: the 5th send is throttled.
    const sink = await startSmtpSink({ limit: { count: 4, windowMs: 6_000 } });
    const keys = Array.from({ length: 8 }, (_, i) => `window-reset:${i}`);
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [
      keys.map((key, i) => JSON.stringify(emailMessage(`reset${i}@example.com`, key, { subject: key }))),
    ]);
    const { logger, lines } = keptLogger("info");
    const config = loadConfig(
      testWorkerEnv({
        databaseUrl: db.url,
        smtpPort: sink.smtpPort,
        env: {
          SMTP_SEND_LIMIT: "10/6s",
          QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1",
          SMTP_THROTTLE_MAX_PAUSE_SECONDS: "30",
        },
      }),
    );
    const worker = await startWorker({
      config,
      logger,
      processors: (p) => buildProcessors({ config, pool: p, logger }),
    });
    try {
      await sink.waitForMessages(keys.length, { timeoutMs: 60_000 });
      expect(new Set(sink.messages().map((message) => message.subject))).toEqual(new Set(keys));
      expect(sink.refusedCount()).toBeGreaterThan(0);
      const pauses = lines.filter((line) => line.pause_ms !== undefined);
      expect(pauses.length).toBeGreaterThan(0);
      // The first pause waited for the window (≈ 7 s from the first read), not the 1 s back-off.
      expect(pauses[0]).toMatchObject({ until_window_resets: true });
      expect(pauses[0]?.pause_ms).toBeGreaterThan(1_000);
      await waitFor(
        async () => {
          const { rows } = await pool.query("select count(*)::int as n from pgmq.q_email_queue");
          return rows[0]?.n === 0;
        },
        { what: "an empty email_queue" },
      );
      expect(await deadLetters(pool, "email_queue")).toEqual([]);
    } finally {
      await worker.stop();
      await sink.stop();
    }
  });
});
