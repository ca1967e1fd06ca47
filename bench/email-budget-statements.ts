// What the send budget costs the database: statements per batch of the email consumer's reads, with
// SMTP_SEND_LIMIT off and on (a limit too high to bind, so both runs send the same emails at once).
// Counted by PostgreSQL itself: transactions committed in the database (every statement the worker
// sends outside a transaction is one) and, with track_functions = 'pl', the calls of
// public.email_budget_read and of pgmq.read (every plain read, alone or inside pgmq_archive_and_read;
// the other queues' consumers poll too, in both runs).
//
//   cd bench && node --import tsx email-budget-statements.ts [--emails 2000]
//   pnpm --filter @balansity/bench email-budget-statements
import { parseArgs } from "node:util";
import { startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { pino } from "pino";
import { buildProcessors } from "../apps/worker/src/build-processors.ts";
import { loadConfig } from "../apps/worker/src/config/load-config.ts";
import { startWorker } from "../apps/worker/src/worker.ts";
import { emailMessage } from "../apps/worker/test/support/domain.ts";
import { testWorkerEnv } from "../apps/worker/test/support/test-worker.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { markdownTable } from "./support/markdown-table.ts";
import { startThrowawayPostgres } from "./support/throwaway-postgres.ts";

const { values } = parseArgs({ options: { emails: { type: "string", default: "2000" } } });
const EMAILS = Number(values.emails);

interface Counts {
  readonly xacts: number;
  readonly calls: Record<string, number>;
}

async function counts(admin: pg.Pool, database: string): Promise<Counts> {
  const { rows: xacts } = await admin.query<{ n: string }>(
    "select xact_commit + xact_rollback as n from pg_stat_database where datname = $1",
    [database],
  );
  const { rows } = await admin.query<{ name: string; calls: string }>(
    "select schemaname || '.' || funcname as name, calls from pg_stat_user_functions where funcname in ('email_budget_read', 'read')",
  );
  return {
    xacts: Number(xacts[0]?.n ?? 0),
    calls: Object.fromEntries(rows.map((row) => [row.name, Number(row.calls)])),
  };
}

async function run(url: string, database: string, sendLimit: string | undefined) {
  const sink = await startSmtpSink({ maxMessages: EMAILS + 10 });
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const env = testWorkerEnv({
    databaseUrl: url,
    smtpPort: sink.smtpPort,
    env: sendLimit ? { SMTP_SEND_LIMIT: sendLimit } : {},
  });
  const config = loadConfig(env);
  const logger = pino({ level: "silent" });
  const worker = await startWorker({
    config,
    logger,
    processors: (pool) => buildProcessors({ config, pool, logger }),
  });
  try {
    const messages = Array.from({ length: EMAILS }, (_, i) =>
      JSON.stringify(emailMessage(`budget${i}@example.com`, `${sendLimit ?? "off"}:${i}`)),
    );
    await admin.query("select pg_stat_clear_snapshot()");
    const before = await counts(admin, database);
    await admin.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [messages]);
    await sink.waitForMessages(EMAILS, { timeoutMs: 300_000 });
    for (;;) {
      const { rows } = await admin.query<{ n: string }>("select count(*) as n from pgmq.q_email_queue");
      if (Number(rows[0]?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Let the statistics collector catch up before reading the counters.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await admin.query("select pg_stat_clear_snapshot()");
    const after = await counts(admin, database);
    const calls = (name: string) => (after.calls[name] ?? 0) - (before.calls[name] ?? 0);
    return {
      statements: after.xacts - before.xacts - 4, // minus the counter queries and the send
      budgetReads: calls("public.email_budget_read"),
      // pgmq_archive_and_read calls pgmq.read inside: pgmq.read's calls are every plain read (all queues).
      plainReads: calls("pgmq.read"),
    };
  } finally {
    await worker.stop();
    await sink.stop();
    await admin.end();
  }
}

const machine = describeMachine();
const postgres = await startThrowawayPostgres("fast");
try {
  const rows: string[][] = [];
  for (const limit of [undefined, "100000/1h"]) {
    const name = `budget_${limit ? "on" : "off"}`;
    const { url } = await postgres.createAppDatabase(name);
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query(`alter database ${name} set track_functions = 'pl'`);
    await setup.end();
    const result = await run(url, name, limit);
    const batches = result.budgetReads + result.plainReads;
    rows.push([
      limit ? `SMTP_SEND_LIMIT=${limit}` : "off",
      String(EMAILS),
      String(result.statements),
      (result.statements / EMAILS).toFixed(2),
      String(result.plainReads),
      String(result.budgetReads),
      batches > 0 ? (result.statements / batches).toFixed(1) : "-",
    ]);
  }
  console.log(machineLine(machine));
  console.log(
    `${postgres.description}; ${EMAILS} emails, worker in this process, shipped defaults (32/32/5)\n`,
  );
  console.log(
    markdownTable(
      ["budget", "emails", "statements", "per email", "plain reads", "budget reads", "statements per read"],
      rows,
    ),
  );
} finally {
  await postgres.stop();
}
