// Checkup reports end to end with the real worker, as shipped: 1,000 checkups completed in one
// transaction → report jobs → PDF render (@balansity/reports) → report store (a folder) →
// public.reports → report_ready emails with the PDF attached, alongside the checkup_completed emails
// the same completions queue, all through SMTP. Reports per second from the commit until both
// report_generation_queue and email_queue are empty, and the worker's peak resident memory.
//
//   cd bench && node --import tsx report-throughput.ts [--reports 1000] [--configs 2,4]
//   cd bench && node --import tsx report-throughput.ts --baseline <other checkout>/apps/worker --rounds 2
//   pnpm --filter @balansity/bench report-throughput
//
// --baseline compares this checkout's worker with another checkout's (say main's) in one invocation:
// the same PostgreSQL and SMTP server, runs alternating (baseline, this, baseline, this, …) so that a
// change of the machine's load shows up in both, --rounds times per config.
//
// A config is QUEUE_REPORT_GENERATION_QUEUE_CONCURRENCY (= its batch size; default 2). The worker runs
// as a child process from its own build (apps/worker/scripts/build.mjs into a temporary folder) with the
// node flags of its `start` script and the process-level variables its Dockerfile sets (MALLOC_ARENA_MAX),
// env as test/support/test-worker.ts builds it, REPORT_STORAGE=fs into a temporary folder (allowed under
// NODE_ENV=production for the run, links signed with a secret made per run); the SMTP server (support/discard-smtp-server.ts) runs in this process.
// RSS sampled every 100 ms (VmRSS) and the lifetime peak (VmHWM) from /proc/<pid>/status.
// Each run: a fresh worker; 5 warm-up reports left out; then the checked run. Afterwards every report
// is checked: one public.reports row per checkup, 2 emails per checkup accepted, nothing dead-lettered.
// Target: the worker stays under 200 MB at peak.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { testWorkerEnv } from "../apps/worker/test/support/test-worker.ts";
import { startDiscardSmtpServer } from "./support/discard-smtp-server.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { markdownTable } from "./support/markdown-table.ts";
import { cpuSeconds, memoryStatus, treeCpuMeter } from "./support/proc-stats.ts";
import { loadPerCpu, waitForQuietMachine } from "./support/quiet-machine.ts";
import { shippedProcessEnv } from "./support/shipped-process-env.ts";
import { startThrowawayPostgres } from "./support/throwaway-postgres.ts";
import { startWorkerProcess, type WorkerCommand } from "./support/worker-process.ts";

const TARGET_PEAK_RSS_MB = 200;
const WARM_UP_REPORTS = 5;
const RUN_TIMEOUT_MS = 900_000;
const MB = 1024 * 1024;
const WORKER_DIR = fileURLToPath(new URL("../apps/worker/", import.meta.url));
const ANSWERS = { q1: 5, q2: 4, q3: 3, q4: 3, q5: 1, q6: 2 };

const { values } = parseArgs({
  options: {
    reports: { type: "string", default: "1000" },
    configs: { type: "string", default: "2" },
    baseline: { type: "string" },
    rounds: { type: "string", default: "1" },
  },
});
const reports = Number(values.reports);
const configs = values.configs.split(",").map(Number);
const rounds = Number(values.rounds);
if (
  !Number.isInteger(reports) ||
  reports < 1 ||
  !Number.isInteger(rounds) ||
  rounds < 1 ||
  configs.some((c) => !Number.isInteger(c) || c < 1)
) {
  console.error(
    "report-throughput: --reports, --configs and --rounds take whole numbers, e.g. --reports 1000 --configs 2,4 --rounds 2",
  );
  process.exit(2);
}

interface Variant {
  readonly name: string;
  readonly command: WorkerCommand;
}

interface RunResult {
  readonly variant: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly reportsPerSecond: number;
  readonly idleRssMb: number;
  readonly sampledPeakRssMb: number;
  readonly lifetimePeakRssMb: number;
  readonly workerCores: number;
  readonly postgresCores: number;
  readonly averagePdfKb: number;
  readonly load: readonly [number, number];
}

function startScriptNodeFlags(workerDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(workerDir, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const words = (manifest.scripts?.start ?? "").trim().split(/\s+/);
  if (words[0] !== "node" || words.at(-1) !== "dist/main.mjs") {
    throw new Error(`report-throughput: apps/worker's start script is not "node [flags] dist/main.mjs"`);
  }
  return words.slice(1, -1);
}

function buildWorker(workerDir: string, outdir: string): WorkerCommand {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", "--outdir", outdir], {
    cwd: workerDir,
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`the worker's build failed:\n${build.stdout}${build.stderr}`);
  return {
    nodeArgs: startScriptNodeFlags(workerDir),
    script: join(outdir, "main.mjs"),
    env: shippedProcessEnv(workerDir),
  };
}

function describeCommand(command: WorkerCommand): string {
  const env = Object.entries(command.env ?? {}).map(([name, value]) => `${name}=${value} `);
  return `\`${env.join("")}node ${command.nodeArgs?.join(" ")} main.mjs\``;
}

async function scalar(db: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** `count` users (sign-up trigger makes their profiles) with an answered checkup each, in progress. */
async function createCheckups(db: pg.Pool, prefix: string, count: number): Promise<void> {
  await db.query(
    `with users as (
       insert into auth.users (id, email, raw_user_meta_data)
       select gen_random_uuid(), $1 || '-' || i || '@example.com',
              jsonb_build_object('full_name', 'Анна Иванова ' || i, 'locale', case when i % 2 = 0 then 'ru' else 'en' end,
                                 'timezone', 'Europe/Moscow')
       from generate_series(1, $2) as i
       returning id
     )
     insert into public.assessments (user_id, kind, title, answers)
     select id, 'wellbeing', 'Общее самочувствие', $3 from users`,
    [prefix, count, JSON.stringify(ANSWERS)],
  );
}

async function completeCheckups(db: pg.Pool, prefix: string): Promise<void> {
  await db.query(
    `update public.assessments a set status = 'completed'
      from public.profiles p where p.id = a.user_id and p.email like $1 || '-%' and a.status = 'in_progress'`,
    [prefix],
  );
}

async function untilDrained(db: pg.Pool, deadline: number): Promise<void> {
  for (;;) {
    const { rows } = await db.query<{ idle: boolean }>(
      `select not exists (select from pgmq.q_report_generation_queue)
          and not exists (select from pgmq.q_email_queue) as idle`,
    );
    if (rows[0]?.idle) return;
    if (Date.now() > deadline) throw new Error("the queues were not empty in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs so far: part of each run's user addresses. */
let runNumber = 0;

async function runOnce(
  concurrency: number,
  variant: Variant,
  context: { db: pg.Pool; databaseUrl: string; serverPid: number; workDir: string },
): Promise<RunResult> {
  const { db } = context;
  const smtp = await startDiscardSmtpServer();
  const reportDir = mkdtempSync(join(context.workDir, `reports-${concurrency}-`));
  // Users' addresses are unique: each run makes its own, also when a config is repeated (--configs 2,2).
  runNumber += 1;
  const logFile = join(context.workDir, `worker-${runNumber}-${variant.name}-${concurrency}.log`);
  const env = testWorkerEnv({
    databaseUrl: context.databaseUrl,
    smtpPort: smtp.port,
    env: {
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      REPORT_FS_DIR: reportDir,
      REPORT_FS_ALLOW_PRODUCTION: "true",
      REPORT_LINK_SECRET: randomBytes(32).toString("hex"),
      QUEUE_REPORT_GENERATION_QUEUE_CONCURRENCY: String(concurrency),
      QUEUE_REPORT_GENERATION_QUEUE_BATCH_SIZE: String(concurrency),
    },
  });
  const worker = await startWorkerProcess(env, logFile, variant.command);
  try {
    const idleRss = memoryStatus(worker.pid)?.rss ?? Number.NaN;
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    const warm = `warm-${runNumber}-${concurrency}`;
    await createCheckups(db, warm, WARM_UP_REPORTS);
    await completeCheckups(db, warm);
    await untilDrained(db, deadline);

    const run = `run-${runNumber}-${concurrency}`;
    await createCheckups(db, run, reports);
    const acceptedBefore = smtp.accepted();
    const loadBefore = await waitForQuietMachine(0.8, 60);
    let sampledPeak = 0;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, memoryStatus(worker.pid)?.rss ?? 0);
    }, 100);
    // The clock starts at the commit: the worker sees the report jobs only then.
    await completeCheckups(db, run);
    const started = performance.now();
    const workerCpuBefore = cpuSeconds(worker.pid);
    const postgresCpu = treeCpuMeter(context.serverPid);
    await untilDrained(db, deadline);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const workerCpu = cpuSeconds(worker.pid) - workerCpuBefore;
    const postgresSeconds = postgresCpu.stop();

    const stored = await scalar(
      db,
      `select count(*) as n from public.reports r join public.profiles p on p.id = r.user_id where p.email like $1 || '-%'`,
      [run],
    );
    const bytes = await scalar(
      db,
      `select coalesce(avg(size_bytes), 0) as n from public.reports r join public.profiles p on p.id = r.user_id where p.email like $1 || '-%'`,
      [run],
    );
    const deadLetters = await scalar(
      db,
      "select (select count(*) from pgmq.q_report_generation_queue_dlq) + (select count(*) from pgmq.q_email_queue_dlq) as n",
    );
    const accepted = smtp.accepted() - acceptedBefore;
    if (stored !== reports || accepted !== 2 * reports || deadLetters !== 0) {
      throw new Error(
        `concurrency ${concurrency}: ${stored} reports stored, ${accepted} emails accepted, ${deadLetters} dead letters (expected ${reports}, ${2 * reports}, 0); log: ${logFile}`,
      );
    }
    return {
      variant: variant.name,
      concurrency,
      seconds,
      reportsPerSecond: reports / seconds,
      idleRssMb: idleRss / MB,
      sampledPeakRssMb: sampledPeak / MB,
      lifetimePeakRssMb: (memoryStatus(worker.pid)?.peakRss ?? Number.NaN) / MB,
      workerCores: workerCpu / seconds,
      postgresCores: postgresSeconds / seconds,
      averagePdfKb: bytes / 1024,
      load: [loadBefore, loadPerCpu()],
    };
  } finally {
    await worker.stop();
    await smtp.stop();
  }
}

const workDir = mkdtempSync(join(tmpdir(), "balansity-report-bench-"));
const postgres = await startThrowawayPostgres("durable");
try {
  const { url } = await postgres.createAppDatabase("bench_reports");
  const db = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const variants: Variant[] = [];
    if (values.baseline !== undefined) {
      const baselineDir = resolve(values.baseline);
      variants.push({ name: "baseline", command: buildWorker(baselineDir, join(workDir, "baseline-dist")) });
    }
    variants.push({ name: "this", command: buildWorker(WORKER_DIR, join(workDir, "worker-dist")) });
    const results: RunResult[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      for (const concurrency of configs) {
        for (const variant of variants) {
          process.stdout.write(
            `report-throughput: round ${round}, ${variant.name}, concurrency ${concurrency}, ${reports} reports …\n`,
          );
          results.push(
            await runOnce(concurrency, variant, {
              db,
              databaseUrl: url,
              serverPid: postgres.serverPid,
              workDir,
            }),
          );
        }
      }
    }
    console.log(`\n${machineLine(describeMachine())}; ${postgres.description}, ${postgres.durability}`);
    console.log(
      `${reports} checkups completed in one transaction per run (wellbeing, half ru / half en); worker = its build's bundle, NODE_ENV=production, REPORT_STORAGE=fs; per report: PDF rendered, stored, recorded, report_ready (PDF attached) + checkup_completed emails sent over SMTP to a discarding server`,
    );
    for (const variant of variants) console.log(`- ${variant.name}: ${describeCommand(variant.command)}`);
    console.log("");
    console.log(
      markdownTable(
        [
          "run",
          "worker",
          "report concurrency",
          "reports/s",
          "seconds",
          "RSS idle / peak sampled / VmHWM (MB)",
          "worker CPU (cores)",
          "PostgreSQL CPU (cores)",
          "PDF (KB, mean)",
          "load per CPU before / after",
        ],
        results.map((r, index) => [
          String(index + 1),
          r.variant,
          String(r.concurrency),
          r.reportsPerSecond.toFixed(1),
          r.seconds.toFixed(1),
          `${r.idleRssMb.toFixed(0)} / ${r.sampledPeakRssMb.toFixed(0)} / ${r.lifetimePeakRssMb.toFixed(0)}`,
          r.workerCores.toFixed(2),
          r.postgresCores.toFixed(2),
          r.averagePdfKb.toFixed(1),
          `${r.load[0].toFixed(2)} / ${r.load[1].toFixed(2)}`,
        ]),
      ),
    );
    for (const variant of variants) {
      const worst = Math.max(
        ...results.filter((r) => r.variant === variant.name).map((r) => r.lifetimePeakRssMb),
      );
      console.log(
        `\n${variant.name}: peak RSS ${worst.toFixed(0)} MB: ${worst < TARGET_PEAK_RSS_MB ? "under" : "OVER"} the ${TARGET_PEAK_RSS_MB} MB target`,
      );
    }
  } finally {
    await db.end();
  }
} finally {
  await postgres.stop();
  rmSync(workDir, { recursive: true, force: true });
}
