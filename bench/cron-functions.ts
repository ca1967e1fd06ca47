// How long the appointment cron functions of supabase/migrations/030_setup_cron_jobs.sql take on a
// million appointments: public.update_appointment_statuses() and public.send_appointment_reminders().
//
//   node --import tsx bench/cron-functions.ts          (from the repository root)
//   pnpm --filter @balansity/bench cron-functions
//
// Starts a throwaway PostgreSQL with the devstack (DEVSTACK_POSTGRES / PG_BIN choose the binaries, as
// for tests), applies every migration, generates 1,000,000 appointments (almost all history; about
// 1,000 due for a status change and 1,000 due for a reminder), then times each function: the median of
// RUNS runs, each in a transaction rolled back so every run does the same work, once with custom plans
// (a fresh session: pg_cron's background worker) and once with the generic plan (a long-lived pooled
// connection, the worker's scheduler). auto_explain prints the plans of the statements inside the
// functions with ANALYZE and BUFFERS. Target: under 50 ms each. Record the figures in bench/RESULTS.md.
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { applyMigrations, installPlatform, startThrowawayPostgres } from "@balansity/devstack";
import pg from "pg";

const RUNS = 11;
const TARGET_MS = 50;
const DATABASE = "bench_cron";
/** "Now" of every run: whole hour, as the hourly reminder job runs. */
const NOW = "2030-06-03T09:00:00Z";

const FUNCTIONS = ["public.update_appointment_statuses", "public.send_appointment_reminders"] as const;
type PlanMode = "force_custom_plan" | "force_generic_plan";

// Segments of the generated data, 1,000,000 rows in all. $1 is NOW.
const SEGMENTS: readonly { readonly label: string; readonly rows: number; readonly select: string }[] = [
  {
    label: "history: completed (1 % cancelled), one every 63 s over two years",
    rows: 988_800,
    select: `select $1::timestamptz - interval '2 hours' - i * interval '63 seconds' as starts_at,
                    case when i % 100 = 0 then 'cancelled' else 'completed' end as status,
                    true as sent_24h, true as sent_1h`,
  },
  {
    label: "due to start (scheduled, started in the last 4 minutes)",
    rows: 500,
    select: `select $1::timestamptz - (i % 240) * interval '1 second', 'scheduled', true, true`,
  },
  {
    label: "due to complete (in_progress, ended in the last 4 minutes)",
    rows: 500,
    select: `select $1::timestamptz - interval '1 hour' - (i % 240) * interval '1 second', 'in_progress', true, true`,
  },
  {
    label: "running, not due",
    rows: 200,
    select: `select $1::timestamptz - interval '10 minutes', 'in_progress', true, true`,
  },
  {
    label: "due for the 24 h reminder (starts in 1-24 h)",
    rows: 600,
    select: `select $1::timestamptz + interval '1 hour 30 seconds' + (i % 1380) * interval '1 minute', 'scheduled', false, false`,
  },
  {
    label: "due for the 1 h reminder (starts within the hour)",
    rows: 400,
    select: `select $1::timestamptz + interval '30 seconds' + (i % 59) * interval '1 minute', 'scheduled', true, false`,
  },
  {
    label: "starts in 1-24 h, 24 h reminder already sent",
    rows: 2_000,
    select: `select $1::timestamptz + interval '1 hour 30 seconds' + (i % 1380) * interval '1 minute', 'scheduled', true, false`,
  },
  {
    label: "booked further ahead (1-30 days)",
    rows: 7_000,
    select: `select $1::timestamptz + interval '1 day 1 minute' + (i % 41760) * interval '1 minute', 'scheduled', false, false`,
  },
];

async function main(): Promise<void> {
  const started = await startThrowawayPostgres({ prefix: "balansity-bench-" });
  const { cluster } = started;
  try {
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query(`create database ${DATABASE}`);
    await admin.end();
    const parsed = new URL(cluster.adminUrl);
    parsed.pathname = `/${DATABASE}`;
    const url = parsed.toString();
    await installPlatform(url);
    await applyMigrations(url);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const version = await client.query<{ version: string }>("select version()");
      console.log(`machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? "unknown CPU"}`);
      console.log(`server:  ${version.rows[0]?.version} (${started.flavor}, fsync off)`);

      await generate(client);
      for (const fn of FUNCTIONS) {
        for (const mode of ["force_custom_plan", "force_generic_plan"] as const) {
          await time(url, fn, mode);
        }
      }
      for (const fn of FUNCTIONS) await explain(client, fn);
    } finally {
      await client.end();
    }
  } finally {
    await started.stop();
  }
}

async function generate(client: pg.Client): Promise<void> {
  const t0 = performance.now();
  // Users with the auth trigger on (it makes their profiles); appointments with triggers off
  // (session_replication_role = replica), or each row would also queue a confirmation email.
  await client.query(
    `insert into auth.users (id, email, raw_user_meta_data)
     select gen_random_uuid(), 'user' || i || '@example.com', jsonb_build_object('full_name', 'User ' || i)
     from generate_series(1, 10000) as i`,
  );
  await client.query("set session_replication_role = replica");
  for (const segment of SEGMENTS) {
    await client.query(
      `with users as (select array_agg(id order by id) as ids from public.profiles),
            rows as (select i, s.* from generate_series(1, $2::int) as i, lateral (${segment.select}) as s(starts_at, status, sent_24h, sent_1h))
       insert into public.appointments
         (user_id, specialist_name, starts_at, ends_at, status, payment_status, meeting_url, created_at,
          reminder_24h_sent_at, reminder_1h_sent_at)
       select users.ids[1 + r.i % 10000], 'Specialist ' || r.i % 50, r.starts_at, r.starts_at + interval '1 hour',
              r.status, 'paid', 'https://meet.example.com/' || r.i, r.starts_at - interval '7 days',
              case when r.sent_24h then r.starts_at - interval '23 hours' end,
              case when r.sent_1h then r.starts_at - interval '30 minutes' end
       from rows as r, users`,
      [NOW, segment.rows],
    );
  }
  await client.query("reset session_replication_role");
  await client.query("vacuum analyze public.appointments, public.profiles");
  const counts = await client.query<{ status: string; n: string }>(
    "select status, count(*) as n from public.appointments group by status order by status",
  );
  const total = counts.rows.reduce((sum, row) => sum + Number(row.n), 0);
  console.log(
    `\ndata: ${total.toLocaleString("en")} appointments (${counts.rows.map((r) => `${r.status} ${r.n}`).join(", ")}), ` +
      `generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const segment of SEGMENTS) console.log(`  ${String(segment.rows).padStart(7)}  ${segment.label}`);
}

async function time(url: string, fn: string, mode: PlanMode): Promise<void> {
  // A fresh session per function and mode, so the plan cache starts empty.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`set plan_cache_mode = ${mode}`);
    const durations: number[] = [];
    let summary: unknown;
    let updates = { all: 0, hot: 0 };
    for (let run = 0; run < RUNS; run += 1) {
      await client.query("begin");
      const before = await updateCounts(client);
      const t0 = performance.now();
      const result = await client.query<{ summary: unknown }>(`select ${fn}($1) as summary`, [NOW]);
      durations.push(performance.now() - t0);
      summary = result.rows[0]?.summary;
      const after = await updateCounts(client);
      updates = { all: after.all - before.all, hot: after.hot - before.hot };
      await client.query("rollback");
    }
    const sorted = [...durations].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    const verdict = median < TARGET_MS ? "ok" : `OVER the ${TARGET_MS} ms target`;
    console.log(
      `\n${fn}() [${mode}]: median ${median.toFixed(1)} ms over ${RUNS} runs ` +
        `(min ${sorted[0]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)}, first ${durations[0]?.toFixed(1)}) ${verdict}` +
        `\n  each run: ${JSON.stringify(summary)}; rows updated ${updates.all} (HOT ${updates.hot})`,
    );
  } finally {
    await client.end();
  }
}

/** Rows of public.appointments this session has updated so far (and how many of them HOT). */
async function updateCounts(client: pg.Client): Promise<{ all: number; hot: number }> {
  const result = await client.query<{ all: string; hot: string }>(
    `select n_tup_upd as all, n_tup_hot_upd as hot from pg_stat_xact_user_tables
     where relid = 'public.appointments'::regclass`,
  );
  return { all: Number(result.rows[0]?.all ?? 0), hot: Number(result.rows[0]?.hot ?? 0) };
}

/** The plans of the statements inside the function, as auto_explain reports them (as notices). */
async function explain(client: pg.Client, fn: string): Promise<void> {
  const plans: string[] = [];
  const onNotice = (notice: { readonly message?: string | undefined }): void => {
    if (notice.message?.includes("Query Text")) plans.push(notice.message);
  };
  client.on("notice", onNotice);
  await client.query("begin");
  try {
    await client.query("load 'auto_explain'");
    await client.query(
      `set local auto_explain.log_min_duration = 0;
       set local auto_explain.log_analyze = on;
       set local auto_explain.log_buffers = on;
       set local auto_explain.log_timing = on;
       set local auto_explain.log_nested_statements = on;
       set local auto_explain.log_level = notice`,
    );
    await client.query(`select ${fn}($1)`, [NOW]);
  } finally {
    await client.query("rollback");
    client.off("notice", onNotice);
  }
  console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of the statements in ${fn}():`);
  // The function's own statements; not the outer `select fn()` nor the functions they call.
  for (const plan of plans.filter((text) => text.includes("public.appointments"))) console.log(`\n${plan}`);
}

await main();
