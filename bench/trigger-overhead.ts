// What the on_checkup_completed trigger (032_webhook_triggers.sql) costs the transaction that completes
// a checkup: three pgmq sends (report, email, analytics), a profile lookup and the NOTIFY wake-ups.
//
// Starts a throwaway PostgreSQL through the devstack, applies every migration, creates N users with
// one in_progress checkup each, then completes them one row per transaction from C concurrent
// clients in rounds that cycle through four modes, each round on its own rows:
//   off       the trigger disabled (alter table ... disable trigger on_checkup_completed)
//   on        as deployed, no consumer registered: every completion notifies (a worker that is
//             waiting, or one that does not take part in the wake-up protocol of 038)
//   on-busy   as deployed, with a busy consumer registered on each queue (pgmq_consumer_busy, 038):
//             what a completion costs while the worker is working
//   on-quiet  the trigger on, the NOTIFY triggers on pgmq.q_* off (what the wake-ups cost)
// Cycling (off, on, on-busy, on-quiet, off, ...) keeps warm-up and table growth from favouring one mode.
//
//   pnpm --filter @balansity/bench trigger-overhead [-- --rows 20000 --clients 4 --rounds 2 --durability durable]
//   (or, in bench/: node --import tsx trigger-overhead.ts ...)
//
// durable (default) is what Supabase does: fsync and synchronous_commit on. fast turns them off (as
// the test cluster does), which leaves the trigger's own CPU cost as the whole difference.
// Environment: DEVSTACK_POSTGRES (auto | system | embedded) and PG_BIN, as for the devstack.

import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { applyMigrations, installPlatform, startThrowawayPostgres, withClient } from "@balansity/devstack";
import pg from "pg";

interface Options {
  readonly rows: number;
  readonly clients: number;
  readonly rounds: number;
  readonly durability: "durable" | "fast";
}

/** See the header. */
type Mode = "off" | "on" | "on-busy" | "on-quiet";
const MODES: readonly Mode[] = ["off", "on", "on-busy", "on-quiet"];
const QUEUES = ["email_queue", "report_generation_queue", "analytics_queue"] as const;

interface Round {
  readonly trigger: Mode;
  readonly transactions: number;
  readonly seconds: number;
}

function readOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rows: { type: "string", default: "20000" },
      clients: { type: "string", default: "4" },
      rounds: { type: "string", default: "2" },
      durability: { type: "string", default: "durable" },
    },
  });
  const rows = Number(values.rows);
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);
  const durability = values.durability === "fast" ? "fast" : "durable";
  const problems: string[] = [];
  if (!Number.isInteger(rows) || rows < 100) problems.push("--rows must be an integer >= 100");
  if (!Number.isInteger(clients) || clients < 1) problems.push("--clients must be a positive integer");
  if (!Number.isInteger(rounds) || rounds < 1) problems.push("--rounds must be a positive integer");
  if (values.durability !== durability) problems.push("--durability must be durable or fast");
  if (problems.length > 0) throw new Error(`trigger-overhead: ${problems.join("; ")}`);
  return { rows, clients, rounds, durability };
}

/** N users (profiles come from the auth trigger) with one in_progress checkup each; returns the checkup ids. */
async function prepareData(client: pg.Client, rows: number): Promise<string[]> {
  await client.query("begin");
  await client.query(
    `insert into auth.users (id, email, raw_user_meta_data)
     select gen_random_uuid(), 'bench-' || i || '@example.com',
            jsonb_build_object('full_name', 'Пользователь ' || i, 'locale', 'ru', 'timezone', 'Europe/Moscow')
     from generate_series(1, $1::integer) as i`,
    [rows],
  );
  const { rows: created } = await client.query<{ id: string }>(
    `insert into public.assessments (user_id, kind, title)
     select p.id, 'wellbeing', 'Checkup of ' || p.full_name
     from public.profiles p
     order by p.email
     returning id`,
  );
  await client.query("commit");
  await client.query("vacuum analyze auth.users, public.profiles, public.assessments");
  return created.map((row) => row.id);
}

/** Completes every id, one row per transaction, from `clients` connections; returns the wall time. */
async function completeAll(url: string, ids: readonly string[], clients: number): Promise<number> {
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  let next = 0;
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      connections.map(async (client) => {
        for (;;) {
          const id = ids[next];
          next += 1;
          if (id === undefined) return;
          const result = await client.query({
            name: "complete-checkup",
            text: "update public.assessments set status = 'completed' where id = $1 and status = 'in_progress'",
            values: [id],
          });
          if (result.rowCount !== 1) throw new Error(`checkup ${id} was not completed`);
        }
      }),
    );
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await Promise.all(connections.map((client) => client.end()));
  }
}

async function setMode(client: pg.Client, mode: Mode): Promise<void> {
  const checkup = mode === "off" ? "disable" : "enable";
  const notify = mode === "on" || mode === "on-busy" ? "enable" : "disable";
  await client.query(`alter table public.assessments ${checkup} trigger on_checkup_completed`);
  await client.query("delete from automation.queue_consumers");
  for (const queue of QUEUES) {
    await client.query(
      `alter table pgmq.${pg.escapeIdentifier(`q_${queue}`)} ${notify} trigger notify_insert`,
    );
    if (mode === "on-busy")
      await client.query("select public.pgmq_consumer_busy($1, 'bench', 3600)", [queue]);
  }
}

function table(rounds: readonly Round[]): string {
  const lines = ["| round | trigger | transactions | seconds | TPS |", "| ---: | --- | ---: | ---: | ---: |"];
  rounds.forEach((round, index) => {
    const tps = round.transactions / round.seconds;
    lines.push(
      `| ${index + 1} | ${round.trigger} | ${round.transactions} | ${round.seconds.toFixed(2)} | ${tps.toFixed(0)} |`,
    );
  });
  return lines.join("\n");
}

function totalTps(rounds: readonly Round[], trigger: Round["trigger"]): number {
  const chosen = rounds.filter((round) => round.trigger === trigger);
  const transactions = chosen.reduce((sum, round) => sum + round.transactions, 0);
  const seconds = chosen.reduce((sum, round) => sum + round.seconds, 0);
  return transactions / seconds;
}

function ms(clients: number, tps: number): string {
  return `${((1000 * clients) / tps).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const started = await startThrowawayPostgres({
    prefix: "balansity-bench-",
    durability: options.durability,
  });
  const { cluster } = started;
  try {
    // Its own database: pg_cron (when preloaded) lives in `postgres` and would run jobs meanwhile.
    await withClient(cluster.adminUrl, (client) => client.query("create database bench"));
    const url = new URL(cluster.adminUrl);
    url.pathname = "/bench";
    const benchUrl = url.toString();
    const pgmqExtension = await installPlatform(benchUrl);
    await applyMigrations(benchUrl);

    const { version, ids } = await withClient(benchUrl, async (client) => {
      const { rows } = await client.query<{ server_version: string }>("show server_version");
      return { version: rows[0]?.server_version ?? "?", ids: await prepareData(client, options.rows) };
    });

    const roundCount = options.rounds * MODES.length;
    const perRound = Math.floor(ids.length / roundCount);
    const rounds: Round[] = [];
    for (let index = 0; index < roundCount; index += 1) {
      const trigger = MODES[index % MODES.length] as Mode;
      await withClient(benchUrl, (client) => setMode(client, trigger));
      const slice = ids.slice(index * perRound, (index + 1) * perRound);
      const seconds = await completeAll(benchUrl, slice, options.clients);
      rounds.push({ trigger, transactions: slice.length, seconds });
    }

    // The trigger really ran in the "on" rounds: one email per completed checkup.
    const queued = await withClient(benchUrl, async (client) => {
      const { rows } = await client.query<{ count: string }>("select count(*) from pgmq.q_email_queue");
      return Number(rows[0]?.count);
    });
    const expected = rounds
      .filter((round) => round.trigger !== "off")
      .reduce((sum, r) => sum + r.transactions, 0);
    if (queued !== expected) throw new Error(`expected ${expected} queued emails, found ${queued}`);

    const off = totalTps(rounds, "off");
    const on = totalTps(rounds, "on");
    const quiet = totalTps(rounds, "on-quiet");
    const busy = totalTps(rounds, "on-busy");
    const date = new Date().toISOString().slice(0, 10);
    console.log(
      [
        `trigger-overhead ${date}: PostgreSQL ${version} (${started.flavor}), pgmq ${pgmqExtension ? "extension" : "compatible SQL"}, durability ${options.durability}`,
        `machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? "unknown CPU"}, load average at the end ${loadavg()
          .map((load) => load.toFixed(1))
          .join(" / ")}`,
        `${options.rows} checkups, ${options.clients} clients, one UPDATE per transaction`,
        "",
        table(rounds),
        "",
        `TPS without the trigger: ${off.toFixed(0)}; with it: ${on.toFixed(0)}; cost ratio (off / on): ${(off / on).toFixed(2)}x (target <= 2x)`,
        `with a busy consumer registered (038): ${busy.toFixed(0)} TPS, ratio ${(off / busy).toFixed(2)}x`,
        `without the NOTIFY wake-ups: ${quiet.toFixed(0)} TPS, ratio ${(off / quiet).toFixed(2)}x`,
        `latency per transaction (clients / TPS): ${ms(options.clients, off)} without, ${ms(options.clients, on)} with, ${ms(options.clients, busy)} with a busy consumer, ${ms(options.clients, quiet)} with but no NOTIFY`,
      ].join("\n"),
    );
  } finally {
    await started.stop();
  }
}

await main();
