/**
 * The crash scenario of issue "fewer duplicates after a crash": a real worker process sends `count`
 * emails to the devstack's SMTP sink (a separate process that records each message's Message-ID)
 * and is SIGKILLed `kills` times on the way, each time restarted. What each kill left in flight is
 * read twice: from the delivery log (claims still `sending`: taken, no result recorded) and from the
 * server (which of those it already has). Used by test/worker-killed-repeatedly.test.ts (asserts)
 * and bench/worker-crash-duplicates.ts (before/after figures).
 */
import { spawnSmtpSinkProcess } from "@balansity/devstack";
import type pg from "pg";
import { deadLetters, emailMessage, queueLength } from "./domain.ts";
import { testWorkerEnv } from "./test-worker.ts";
import { waitFor } from "./wait-for.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./worker-process.ts";

const TO = "crash@example.com";

export interface CrashScenarioOptions {
  readonly databaseUrl: string;
  readonly pool: pg.Pool;
  /** Emails queued at once (distinct idempotency keys). */
  readonly count: number;
  /** SIGKILLs, spread evenly over the run (by arrivals at the server). */
  readonly kills: number;
  /** Another checkout's `apps/worker/src/main.ts` (the "before" of a benchmark). */
  readonly workerMain?: string;
  /** Extra worker environment. */
  readonly env?: Record<string, string>;
  /** How long the whole run may take once the emails are queued. Default 240 s. */
  readonly timeoutMs?: number;
}

export interface KillRecord {
  /** Messages at the server when the worker was killed (copies included). */
  readonly arrivedAtKill: number;
  /** Delivery log: keys the killed worker claimed with no result right after the kill (`status = 'sending'`). */
  readonly inFlight: readonly string[];
  /** Server: how many of `inFlight` it already had right after the kill (accepted, not recorded). */
  readonly inFlightAtServer: number;
  /** Extra copies the server received, over the whole run, of the keys in flight at this kill. */
  readonly duplicates: number;
}

export interface CrashScenarioResult {
  readonly count: number;
  readonly kills: readonly KillRecord[];
  /** Messages the server received (copies included). */
  readonly arrivals: number;
  /** Keys queued that never reached the server. */
  readonly lost: readonly string[];
  /** Copies beyond the first, over all keys. */
  readonly duplicates: number;
  /** Keys that arrived more than once but were in no kill's in-flight set. */
  readonly unexplained: readonly string[];
  /** Keys whose copies carry more than one Message-ID. */
  readonly differentMessageIds: readonly string[];
  /** Sum of the delivery log's resends column (null: a worker without it, the "before" run). */
  readonly resendsInLog: number | null;
  /** Keys with more copies at the server than 1 + their resends in the log. */
  readonly uncountedResends: readonly string[];
  /** Rows of the delivery log not in status sent at the end. */
  readonly notSent: number;
  readonly deadLetters: number;
  readonly seconds: number;
  /** The SMTP connections each worker opens (SMTP_MAX_CONNECTIONS). */
  readonly smtpConnections: number;
}

interface SinkMessage {
  readonly messageId: string | null;
  readonly subject: string;
}

/** Runs the scenario; starts and stops its own SMTP sink and workers. */
export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioResult> {
  const { pool, count, kills } = options;
  const smtpConnections = Number(options.env?.SMTP_MAX_CONNECTIONS ?? 5);
  const sink = await spawnSmtpSinkProcess({ maxMessages: 2 * count, readyTimeoutMs: 60_000 });
  const workers: WorkerProcess[] = [];
  const arrivedCount = async () => {
    const response = await fetch(`${sink.url}/healthz`);
    return ((await response.json()) as { messages: number }).messages;
  };
  const sinkMessages = async () => {
    const response = await fetch(`${sink.url}/messages?to=${encodeURIComponent(TO)}`);
    if (!response.ok) throw new Error(`GET /messages answered ${response.status}`);
    return (await response.json()) as SinkMessage[];
  };
  const env = {
    ...testWorkerEnv({ databaseUrl: options.databaseUrl, smtpPort: sink.smtpPort }),
    // A killed worker's messages and claims come back after 10 s. Shorter, a worker that stalls
    // that long on a busy machine (its first renders, its SMTP thread starting) loses its claims
    // while alive: duplicates too (counted as resends), but not the crash's.
    QUEUE_EMAIL_QUEUE_VT_SECONDS: "10",
    LOG_LEVEL: "info",
    ...options.env,
  };
  // The database's clock when the current worker was started: its claims are those made since (a
  // claim another killed worker left behind stays `sending` until its lease runs out and is not this
  // worker's to count).
  let spawnedAt = new Date(0);
  const spawn = async () => {
    spawnedAt = (await pool.query<{ now: Date }>("select clock_timestamp() as now")).rows[0]!.now;
    const worker = await spawnWorkerProcess(env, {
      ...(options.workerMain ? { main: options.workerMain } : {}),
      readyTimeoutMs: 180_000,
    });
    workers.push(worker);
    return worker;
  };

  try {
    let worker = await spawn();
    const keys = Array.from({ length: count }, (_, i) => `crash:${i}`);
    const started = performance.now();
    const messages = keys.map((key) => JSON.stringify(emailMessage(TO, key, { subject: key })));
    await pool.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [messages]);

    const killed: Omit<KillRecord, "duplicates">[] = [];
    for (let k = 1; k <= kills; k += 1) {
      const threshold = Math.floor((count * k) / (kills + 1));
      await waitFor(async () => (await arrivedCount()) >= threshold, {
        timeoutMs: options.timeoutMs ?? 240_000,
        intervalMs: 10,
        what: `${threshold} emails before kill ${k}`,
      });
      await worker.kill("SIGKILL");
      const arrivedAtKill = await arrivedCount();
      const { rows } = await pool.query<{ idempotency_key: string }>(
        "select idempotency_key from automation.email_deliveries where status = 'sending' and updated_at >= $1",
        [spawnedAt],
      );
      const inFlight = rows.map((row) => row.idempotency_key);
      const atServer = new Set((await sinkMessages()).map((message) => message.subject));
      killed.push({
        arrivedAtKill,
        inFlight,
        inFlightAtServer: inFlight.filter((key) => atServer.has(key)).length,
      });
      worker = await spawn();
    }

    const timeoutMs = options.timeoutMs ?? 240_000;
    await waitFor(
      async () => {
        if ((await arrivedCount()) < count) return false;
        return new Set((await sinkMessages()).map((message) => message.subject)).size === count;
      },
      { timeoutMs, intervalMs: 500, what: `all ${count} idempotency keys at the server` },
    );
    await waitFor(async () => (await queueLength(pool, "email_queue")) === 0, {
      timeoutMs,
      intervalMs: 200,
      what: "an empty email_queue",
    });
    const seconds = (performance.now() - started) / 1000;
    await worker.stop();

    const final = await sinkMessages();
    const idsByKey = new Map<string, string[]>();
    for (const message of final) {
      const ids = idsByKey.get(message.subject) ?? [];
      ids.push(message.messageId ?? "");
      idsByKey.set(message.subject, ids);
    }
    const copies = (key: string) => idsByKey.get(key)?.length ?? 0;
    const inAnyKill = new Set(killed.flatMap((kill) => kill.inFlight));
    const duplicateKeys = [...idsByKey.keys()].filter((key) => copies(key) > 1);
    // to_jsonb: the "before" worker's database may have no resends column.
    const log = await pool.query<{ idempotency_key: string; status: string; resends: number | null }>(
      `select idempotency_key, status, (to_jsonb(d) ->> 'resends')::int as resends
         from automation.email_deliveries as d where idempotency_key = any($1)`,
      [keys],
    );
    const hasResends = log.rows.some((row) => row.resends !== null);
    const resendsByKey = new Map(log.rows.map((row) => [row.idempotency_key, row.resends ?? 0]));
    return {
      count,
      kills: killed.map((kill) => ({
        ...kill,
        duplicates: kill.inFlight.reduce((sum, key) => sum + Math.max(0, copies(key) - 1), 0),
      })),
      arrivals: final.length,
      lost: keys.filter((key) => copies(key) === 0),
      duplicates: final.length - idsByKey.size,
      unexplained: duplicateKeys.filter((key) => !inAnyKill.has(key)),
      differentMessageIds: duplicateKeys.filter((key) => new Set(idsByKey.get(key)).size > 1),
      resendsInLog: hasResends ? log.rows.reduce((sum, row) => sum + (row.resends ?? 0), 0) : null,
      uncountedResends: hasResends
        ? duplicateKeys.filter((key) => copies(key) - 1 > (resendsByKey.get(key) ?? 0))
        : [],
      notSent: log.rows.filter((row) => row.status !== "sent").length + (count - log.rows.length),
      deadLetters: (await deadLetters(pool, "email_queue")).length,
      seconds,
      smtpConnections,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await sink.kill();
  }
}

/** One line per kill and a summary, for logs and benchmark output. */
export function describeCrashRun(result: CrashScenarioResult): string {
  const perKill = result.kills
    .map(
      (kill, index) =>
        `kill ${index + 1}: ${kill.arrivedAtKill} arrived, ${kill.inFlight.length} in flight (log), ` +
        `${kill.inFlightAtServer} of them at the server, ${kill.duplicates} duplicate(s)`,
    )
    .join("\n");
  return (
    `${perKill}\n${result.count} emails, ${result.kills.length} kills, ${result.seconds.toFixed(1)} s: ` +
    `${result.arrivals} arrivals, ${result.lost.length} lost, ${result.duplicates} duplicate(s), ` +
    `resends in the log: ${result.resendsInLog ?? "n/a"}`
  );
}
