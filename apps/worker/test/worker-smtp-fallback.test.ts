import { spawnSmtpSinkProcess } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { emailTemplateExamples } from "@balansity/emails";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { messageIdFor } from "../src/email/email-processor.ts";
import type { RunningWorker } from "../src/worker.ts";
import { deadLetters, emailMessage, queueLength, sendRaw } from "./support/domain.ts";
import { startTestWorker, testWorkerEnv, waitFor } from "./support/test-worker.ts";

// SMTP_FALLBACK_*: while the primary SMTP account is throttled or down for longer than
// SMTP_FALLBACK_AFTER, confirmations and receipts go through the fallback account; checkup emails and
// reminders wait for the primary. Two sink PROCESSES play the two accounts. The worker allows ONE
// attempt per message: an attempt spent on the primary's refusal would dead-letter the email.

type SinkProcess = Awaited<ReturnType<typeof spawnSmtpSinkProcess>>;

interface SinkMessage {
  readonly messageId: string | null;
  readonly subject: string;
  readonly from: string;
  readonly envelope: { readonly from: string };
}

const FROM = testWorkerEnv({ databaseUrl: "", smtpPort: 0 }).SMTP_FROM ?? "";
const FALLBACK_FROM = "noreply@fallback-account.test";
// Well above what the fallback's first send takes (thread start, connection, the sink's greeting:
// seconds here), so a fallback that ignored SMTP_FALLBACK_AFTER fails expectFallbackOnlyAfter.
const AFTER_SECONDS = 8;
const TRANSACTIONAL = ["appointment_confirmation", "payment_succeeded"] as const;
const LOW_TIER = ["checkup_completed", "appointment_reminder_24h"] as const;

let db: TestDatabase;
let pool: pg.Pool;
let worker: RunningWorker | undefined;
let sinks: SinkProcess[] = [];

async function sinkMessages(sink: SinkProcess): Promise<SinkMessage[]> {
  const response = await fetch(`${sink.url}/messages`);
  if (!response.ok) throw new Error(`GET /messages answered ${response.status}`);
  return (await response.json()) as SinkMessage[];
}

async function setFailureMode(sink: SinkProcess, mode: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sink.url}/failure-mode`, { method: "POST", body: JSON.stringify(mode) });
  if (!response.ok) throw new Error(`POST /failure-mode answered ${response.status}`);
}

/** One email of `template` with the template's example variables; the subject is its key. */
function templateEmail(template: string, key: string) {
  return emailMessage(`${key.replaceAll(":", "-")}@example.com`, key, {
    template,
    subject: key,
    variables: emailTemplateExamples[template as keyof typeof emailTemplateExamples],
  });
}

/** 3 of each template, transactional and not, interleaved in the queue: their keys by kind. */
async function enqueueMix(run: string) {
  const transactional: string[] = [];
  const lowTier: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    for (const template of [...LOW_TIER, ...TRANSACTIONAL]) {
      const key = `${run}:${template}:${i}`;
      await sendRaw(pool, "email_queue", templateEmail(template, key));
      ((TRANSACTIONAL as readonly string[]).includes(template) ? transactional : lowTier).push(key);
    }
  }
  return { transactional, lowTier };
}

function fallbackEnv(fallback: SinkProcess): Record<string, string> {
  return {
    QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1",
    SMTP_THROTTLE_MAX_PAUSE_SECONDS: "2",
    WORKER_PROBE_MAX_INTERVAL_MS: "500",
    SMTP_FALLBACK_HOST: "127.0.0.1",
    SMTP_FALLBACK_PORT: String(fallback.smtpPort),
    SMTP_FALLBACK_SECURE: "none",
    SMTP_FALLBACK_FROM: FALLBACK_FROM,
    SMTP_FALLBACK_AFTER: `${AFTER_SECONDS}s`,
  };
}

async function deliveries(keys: readonly string[]) {
  const { rows } = await pool.query<{ key: string; status: string; transport: string | null }>(
    `select idempotency_key as key, status, transport from automation.email_deliveries
      where idempotency_key = any($1) order by idempotency_key`,
    [keys],
  );
  return rows;
}

/** Each key's subject exactly once across both sinks, and where each went. */
async function expectEachOnce(
  primary: SinkProcess,
  fallback: SinkProcess,
  keys: { transactional: string[]; lowTier: string[] },
) {
  const all = [...keys.transactional, ...keys.lowTier];
  const atPrimary = (await sinkMessages(primary)).filter((message) => all.includes(message.subject));
  const atFallback = (await sinkMessages(fallback)).filter((message) => all.includes(message.subject));
  expect(atFallback.map((message) => message.subject).sort()).toEqual([...keys.transactional].sort());
  expect(atPrimary.map((message) => message.subject).sort()).toEqual([...keys.lowTier].sort());
  // Same Message-ID rule whichever account sends: derived from the key, on the primary From's domain.
  for (const message of [...atPrimary, ...atFallback])
    expect(message.messageId).toBe(messageIdFor(message.subject, FROM));
  // The fallback account sends as itself (providers refuse a From outside the account's domains).
  expect(new Set(atFallback.map((message) => message.from))).toEqual(new Set([FALLBACK_FROM]));
  expect(new Set(atFallback.map((message) => message.envelope.from))).toEqual(new Set([FALLBACK_FROM]));
  expect(new Set(atPrimary.map((message) => message.from))).toEqual(new Set([FROM]));

  const log = await deliveries(all);
  expect(log).toHaveLength(all.length);
  for (const row of log) {
    expect(row.status).toBe("sent");
    expect(row.transport).toBe(keys.transactional.includes(row.key) ? "fallback" : "primary");
  }
  // The console's delivery view shows the transport too (its RPC, as the console calls it).
  const { rows: shown } = await pool.query<{ idempotency_key: string; transport: string }>(
    "select idempotency_key, transport from public.console_email_deliveries(null, 1000) where idempotency_key = any($1)",
    [all],
  );
  expect(
    shown
      .filter((row) => row.transport === "fallback")
      .map((row) => row.idempotency_key)
      .sort(),
  ).toEqual([...keys.transactional].sort());
  expect(await deadLetters(pool, "email_queue")).toEqual([]);
  // No read was spent on the primary's refusals: each archived email was read once.
  const { rows: reads } = await pool.query<{ read_ct: number }>(
    "select read_ct from pgmq.a_email_queue where message->>'idempotency_key' = any($1)",
    [all],
  );
  expect(reads).toHaveLength(all.length);
  expect(reads.every((row) => row.read_ct === 1)).toBe(true);
}

/** The fallback took nothing before the primary had been refusing for SMTP_FALLBACK_AFTER. */
async function expectFallbackOnlyAfter(keys: readonly string[], refusingSince: Date) {
  // The server has an email a moment before the delivery log records it sent: wait for every record.
  const first = await waitFor(
    async () => {
      const { rows } = await pool.query<{ first: Date | null; recorded: number }>(
        `select min(sent_at) as first, count(sent_at)::int as recorded
           from automation.email_deliveries where idempotency_key = any($1)`,
        [keys],
      );
      return rows[0]?.recorded === keys.length ? rows[0].first : null;
    },
    { timeoutMs: 20_000, what: "every transactional email recorded as sent" },
  );
  const waitedMs = first.getTime() - refusingSince.getTime();
  expect(waitedMs).toBeGreaterThanOrEqual(AFTER_SECONDS * 1000 - 500);
}

async function sentByTransport(): Promise<Record<string, number>> {
  const text = await (await fetch(`${worker!.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^balansity_emails_sent_total\{transport="(\w+)"\} (\d+)/gm))
    counts[match[1] as string] = Number(match[2]);
  return counts;
}

async function warmUp(primary: SinkProcess, key: string) {
  await sendRaw(pool, "email_queue", templateEmail("checkup_completed", key));
  await waitFor(async () => (await sinkMessages(primary)).some((message) => message.subject === key), {
    timeoutMs: 20_000,
    what: "the warm-up email at the primary",
  });
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  pool.on("error", () => undefined);
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await Promise.all(sinks.map((sink) => sink.kill()));
  sinks = [];
  await pool.query("delete from pgmq.q_email_queue");
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe("SMTP_FALLBACK_*: a second account for transactional email", () => {
  it("sends confirmations and receipts through the fallback while the primary throttles (451) past SMTP_FALLBACK_AFTER; the rest waits for the primary", async () => {
    const primary = await spawnSmtpSinkProcess();
    const fallback = await spawnSmtpSinkProcess();
    sinks.push(primary, fallback);
    worker = await startTestWorker({
      databaseUrl: db.url,
      smtpPort: primary.smtpPort,
      env: fallbackEnv(fallback),
    });
    await warmUp(primary, "throttle:warmup");

    await setFailureMode(primary, {
      kind: "temporary",
      code: 451,
      message: "4.7.1 Too many messages, try again later",
    });
    const refusingSince = new Date();
    const keys = await enqueueMix("throttle");

    await waitFor(async () => (await sinkMessages(fallback)).length === keys.transactional.length, {
      timeoutMs: 60_000,
      what: "the transactional emails at the fallback",
    });
    // Checkup emails and reminders were not sent anywhere meanwhile, and wait in the queue.
    expect((await sinkMessages(primary)).map((message) => message.subject)).toEqual(["throttle:warmup"]);
    expect(await queueLength(pool, "email_queue")).toBeGreaterThanOrEqual(keys.lowTier.length);
    await expectFallbackOnlyAfter(keys.transactional, refusingSince);

    await setFailureMode(primary, { kind: "none" });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      timeoutMs: 60_000,
      what: "the rest sent through the primary once it takes mail again",
    });
    await expectEachOnce(primary, fallback, keys);
    expect(await sentByTransport()).toEqual({
      primary: 1 + keys.lowTier.length,
      fallback: keys.transactional.length,
    });

    // Back on the primary: a confirmation now goes through it again.
    await sendRaw(pool, "email_queue", templateEmail("appointment_confirmation", "throttle:after"));
    await waitFor(
      async () => (await sinkMessages(primary)).some((message) => message.subject === "throttle:after"),
      {
        timeoutMs: 20_000,
        what: "a confirmation through the primary after it recovered",
      },
    );
    expect((await sinkMessages(fallback)).some((message) => message.subject === "throttle:after")).toBe(
      false,
    );
  });

  it("sends confirmations and receipts through the fallback while the primary is down past SMTP_FALLBACK_AFTER; the rest goes when it is back", async () => {
    const first = await spawnSmtpSinkProcess();
    const fallback = await spawnSmtpSinkProcess();
    sinks.push(first, fallback);
    const port = first.smtpPort;
    worker = await startTestWorker({ databaseUrl: db.url, smtpPort: port, env: fallbackEnv(fallback) });
    await warmUp(first, "down:warmup");

    await first.kill();
    const refusingSince = new Date();
    const keys = await enqueueMix("down");
    await waitFor(async () => (await sinkMessages(fallback)).length === keys.transactional.length, {
      timeoutMs: 60_000,
      what: "the transactional emails at the fallback",
    });
    expect(await queueLength(pool, "email_queue")).toBeGreaterThanOrEqual(keys.lowTier.length);
    await expectFallbackOnlyAfter(keys.transactional, refusingSince);

    const primary = await spawnSmtpSinkProcess({ smtpPort: port });
    sinks.push(primary);
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      timeoutMs: 60_000,
      what: "the rest sent through the primary once it is back",
    });
    await expectEachOnce(primary, fallback, keys);
  });

  it.each([
    [
      "without SMTP_FALLBACK_HOST nothing changes",
      "off",
      (_unused: SinkProcess) => ({
        QUEUE_EMAIL_QUEUE_MAX_ATTEMPTS: "1",
        SMTP_THROTTLE_MAX_PAUSE_SECONDS: "2",
      }),
    ],
    [
      "with a fallback, trouble shorter than SMTP_FALLBACK_AFTER does not fail over",
      "short",
      (unused: SinkProcess) => ({ ...fallbackEnv(unused), SMTP_FALLBACK_AFTER: "10m" }),
    ],
  ] as const)("%s: every email waits for the primary", async (_title, run, env) => {
    const primary = await spawnSmtpSinkProcess();
    const unused = await spawnSmtpSinkProcess();
    sinks.push(primary, unused);
    worker = await startTestWorker({ databaseUrl: db.url, smtpPort: primary.smtpPort, env: env(unused) });
    await setFailureMode(primary, {
      kind: "temporary",
      code: 451,
      message: "4.7.1 Too many messages, try again later",
    });
    const keys = await enqueueMix(run);
    // Throttled for several back-offs: nothing sent, and nothing anywhere else.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await sinkMessages(primary)).toEqual([]);
    await setFailureMode(primary, { kind: "none" });
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      timeoutMs: 60_000,
      what: "every email through the primary",
    });
    const all = [...keys.transactional, ...keys.lowTier];
    expect((await sinkMessages(primary)).map((message) => message.subject).sort()).toEqual(all.sort());
    expect(await sinkMessages(unused)).toEqual([]);
    expect((await deliveries(all)).every((row) => row.transport === "primary")).toBe(true);
    expect(await sentByTransport()).toEqual({ primary: all.length });
    expect(await deadLetters(pool, "email_queue")).toEqual([]);
  });
});
