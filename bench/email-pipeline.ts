// The whole email pipeline with the real worker: read from email_queue → render (react-email) → claim
// the delivery (automation.email_deliveries) → SMTP through the pooled nodemailer transport → record the
// delivery → archive. Emails per second from the moment 10,000 emails are committed to the queue until
// it is empty, and the worker's peak resident memory.
//
//   cd bench && node --import tsx email-pipeline.ts [--emails 10000] [--configs 32/32/5,64/64/10]
//        [--sinks devstack,discard] [--durability durable|fast] [--log-level info] [--node-env production]
//        [--entry bundle|tsx] [--instances 1] [--node-args="--cpu-prof …"]
//   pnpm --filter @balansity/bench email-pipeline
//
// A config is CONCURRENCY/BATCH_SIZE/SMTP_MAX_CONNECTIONS (QUEUE_EMAIL_QUEUE_CONCURRENCY,
// QUEUE_EMAIL_QUEUE_BATCH_SIZE, SMTP_MAX_CONNECTIONS). Sinks:
//   devstack  the devstack's SMTP sink (startSmtpSink): parses every message with mailparser
//   discard   a minimal smtp-server that accepts and throws away (support/discard-smtp-server.ts)
// The SMTP server runs in this process; the worker runs as a child process (by default as shipped: its
// build's bundle of apps/worker/src/main.ts, started like its `start` script; env as in
// test/support/test-worker.ts), so its RSS and CPU are its own:
// RSS sampled every 100 ms from /proc/<pid>/status (VmRSS) and the peak since start (VmHWM). CPU
// seconds of the worker, of this process (the SMTP server) and of PostgreSQL are reported too, to show
// which of them limits the rate on this machine.
//
// Variants:
//   --entry bundle   (default) as production runs it: the worker's own build (apps/worker/scripts/build.mjs
//                    --outdir <a temporary directory>), started with the node flags of apps/worker's
//                    `start` script (read from its package.json) and the Dockerfile's MALLOC_ARENA_MAX, e.g. `node --enable-source-maps
//                    --max-old-space-size=128 <dir>/main.mjs`
//   --entry tsx      the TypeScript through tsx's loader: `node --import tsx src/main.ts` (`start:ts`)
//   --instances N    N worker processes (as WORKER_PM2_INSTANCES does)
//   --node-args      extra node flags for the worker, after the entry's own (a repeated V8 flag such as
//                    --max-old-space-size: the last one wins), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//
// Each run: a fresh worker; 50 warm-up emails (first renders, SMTP connections) handled and left out;
// then 10,000 emails (distinct idempotency keys and recipients) sent with pgmq.send_batch in one
// transaction; the clock starts at its commit and stops when email_queue is empty; then every email
// is checked to be recorded as sent and accepted by the server.
// Floor: after each run with the discard sink, the same number of emails through the worker's own pooled
// nodemailer transport (the run's SMTP_MAX_CONNECTIONS, CONCURRENCY sends waiting at once) straight to
// the discard server in another process: no database, no rendering, no queue (support/smtp-floor.ts).
// Targets: ≥ 500 emails/s on this 2-core machine; at the shipped defaults (32/32/5) ≥ 0.6× the floor
// of the same run; worker RSS < 200 MB at peak.
// Environment: DEVSTACK_POSTGRES (auto | system | embedded), PG_BIN, as for the devstack.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { emailMessage } from "../apps/worker/test/support/domain.ts";
import { testWorkerEnv } from "../apps/worker/test/support/test-worker.ts";
import { startDiscardSmtpServer } from "./support/discard-smtp-server.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { markdownTable } from "./support/markdown-table.ts";
import { cpuSeconds, memoryStatus, treeCpuMeter } from "./support/proc-stats.ts";
import { loadPerCpu, waitForQuietMachine } from "./support/quiet-machine.ts";
import { shippedProcessEnv } from "./support/shipped-process-env.ts";
import { type FloorResult, measureSmtpFloor } from "./support/smtp-floor.ts";
import { startThrowawayPostgres } from "./support/throwaway-postgres.ts";
import { startWorkerProcess, type WorkerCommand, type WorkerProcess } from "./support/worker-process.ts";

const SINKS = ["devstack", "discard"] as const;
type SinkKind = (typeof SINKS)[number];

const TARGET_EMAILS_PER_SECOND = 500;
const TARGET_PEAK_RSS_MB = 200;
const TARGET_VS_FLOOR = 0.6;
/** The worker's defaults for email (apps/worker/src/config/load-config.ts): the headline config. */
const SHIPPED = { concurrency: 32, batchSize: 32, smtpMaxConnections: 5 } as const;
const WARM_UP_EMAILS = 50;
const SEND_CHUNK = 1000;
const RUN_TIMEOUT_MS = 300_000;
const MB = 1024 * 1024;

interface WorkerSettings {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly smtpMaxConnections: number;
}

interface Options {
  readonly emails: number;
  readonly configs: readonly WorkerSettings[];
  readonly sinks: readonly SinkKind[];
  readonly durability: "durable" | "fast";
  readonly logLevel: string;
  readonly entry: "bundle" | "tsx";
  readonly nodeArgs: readonly string[];
  readonly nodeEnv: string;
  readonly instances: number;
  readonly maxLoad: number;
  readonly maxWaitSeconds: number;
}

interface RunResult {
  readonly sink: SinkKind;
  readonly settings: WorkerSettings;
  readonly seconds: number;
  readonly emailsPerSecond: number;
  /** Highest VmRSS sampled during the timed run. */
  readonly sampledPeakRssMb: number;
  /** VmRSS once the worker is ready, before any email. */
  readonly idleRssMb: number;
  /** VmHWM at the end: the peak over the worker's whole life (start-up and warm-up included). */
  readonly lifetimePeakRssMb: number;
  readonly workerCpuSeconds: number;
  readonly sinkCpuSeconds: number;
  readonly postgresCpuSeconds: number;
  readonly load: readonly [number, number];
}

function readOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      emails: { type: "string", default: "10000" },
      configs: { type: "string", default: "32/32/5,64/64/10,128/64/20" },
      sinks: { type: "string", default: SINKS.join(",") },
      durability: { type: "string", default: "durable" },
      "log-level": { type: "string", default: "info" },
      entry: { type: "string", default: "bundle" },
      "node-args": { type: "string", default: "" },
      "node-env": { type: "string", default: "production" },
      instances: { type: "string", default: "1" },
      "max-load": { type: "string", default: "0.5" },
      "max-wait": { type: "string", default: "300" },
    },
  });
  const problems: string[] = [];
  const emails = Number(values.emails);
  if (!Number.isInteger(emails) || emails < 100) problems.push("--emails must be an integer ≥ 100");
  const configs = values.configs.split(",").map((text) => {
    const [concurrency, batchSize, smtpMaxConnections] = text.split("/").map(Number);
    if (![concurrency, batchSize, smtpMaxConnections].every((n) => Number.isInteger(n) && (n ?? 0) > 0)) {
      problems.push(`--configs: "${text}" is not CONCURRENCY/BATCH_SIZE/SMTP_MAX_CONNECTIONS`);
    }
    return {
      concurrency: concurrency ?? 0,
      batchSize: batchSize ?? 0,
      smtpMaxConnections: smtpMaxConnections ?? 0,
    };
  });
  const sinks = values.sinks.split(",").map((name) => name.trim());
  for (const sink of sinks) {
    if (!(SINKS as readonly string[]).includes(sink))
      problems.push(`--sinks: unknown "${sink}" (${SINKS.join(", ")})`);
  }
  if (values.durability !== "durable" && values.durability !== "fast")
    problems.push("--durability must be durable or fast");
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1) problems.push("--instances must be a positive integer");
  if (values.entry !== "bundle" && values.entry !== "tsx") problems.push("--entry must be bundle or tsx");
  if (problems.length > 0) throw new Error(`email-pipeline: ${problems.join("; ")}`);
  return {
    emails,
    configs,
    sinks: sinks as SinkKind[],
    durability: values.durability === "fast" ? "fast" : "durable",
    logLevel: values["log-level"],
    entry: values.entry === "tsx" ? "tsx" : "bundle",
    nodeArgs: values["node-args"].split(" ").filter(Boolean),
    nodeEnv: values["node-env"],
    instances,
    maxLoad: Number(values["max-load"]),
    maxWaitSeconds: Number(values["max-wait"]),
  };
}

interface RunningSmtp {
  readonly port: number;
  accepted(): number;
  stop(): Promise<void>;
}

async function startSmtp(kind: SinkKind): Promise<RunningSmtp> {
  if (kind === "discard") return startDiscardSmtpServer();
  const sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  return {
    port: sink.smtpPort,
    // The sink keeps only its last 1,000 messages, but its ids count every accepted one.
    accepted: () => Number(sink.messages().at(-1)?.id ?? 0),
    stop: () => sink.stop(),
  };
}

/** Sends the messages with pgmq.send_batch in one transaction; resolves at its commit. */
async function enqueue(db: pg.Pool, messages: readonly object[]): Promise<void> {
  const client = await db.connect();
  try {
    await client.query("begin");
    for (let start = 0; start < messages.length; start += SEND_CHUNK) {
      const chunk = messages.slice(start, start + SEND_CHUNK).map((message) => JSON.stringify(message));
      await client.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [chunk]);
    }
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function count(db: pg.Pool, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, values);
  return Number(rows[0]?.n);
}

async function untilQueueEmpty(db: pg.Pool, deadline: number, intervalMs: number): Promise<void> {
  // `exists` stops at the first row: polling every 20 ms costs PostgreSQL next to nothing (count(*) over
  // 10,000 rows 50 times a second would show up in its CPU figure).
  const empty = async () => {
    const { rows } = await db.query<{ empty: boolean }>(
      "select not exists (select from pgmq.q_email_queue) as empty",
    );
    return rows[0]?.empty === true;
  };
  while (!(await empty())) {
    if (Date.now() > deadline) throw new Error("email_queue was not empty in time");
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function runOnce(
  run: number,
  sinkKind: SinkKind,
  settings: WorkerSettings,
  context: {
    db: pg.Pool;
    databaseUrl: string;
    serverPid: number;
    workDir: string;
    command: WorkerCommand;
    options: Options;
  },
): Promise<RunResult> {
  const { db, options } = context;
  await db.query("truncate automation.email_deliveries, pgmq.a_email_queue");
  await db.query("vacuum analyze automation.email_deliveries, pgmq.q_email_queue, pgmq.a_email_queue");
  const smtp = await startSmtp(sinkKind);
  const env = testWorkerEnv({
    databaseUrl: context.databaseUrl,
    smtpPort: smtp.port,
    env: {
      // As deployed (ecosystem.config.cjs): without it React renders with its development build.
      NODE_ENV: options.nodeEnv,
      // Reports are not rendered here, but the report store is configured at start: the folder store,
      // allowed under NODE_ENV=production for the run, links signed with a secret made per run.
      REPORT_FS_ALLOW_PRODUCTION: "true",
      REPORT_LINK_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: options.logLevel,
      QUEUE_EMAIL_QUEUE_CONCURRENCY: String(settings.concurrency),
      QUEUE_EMAIL_QUEUE_BATCH_SIZE: String(settings.batchSize),
      SMTP_MAX_CONNECTIONS: String(settings.smtpMaxConnections),
    },
  });
  const workers: WorkerProcess[] = [];
  const stopWorkers = async () => {
    for (const worker of workers.splice(0)) {
      const code = await worker.stop();
      if (code !== 0) process.stdout.write(`  worker exited with ${code}\n`);
    }
  };
  try {
    for (let instance = 1; instance <= options.instances; instance += 1) {
      workers.push(
        await startWorkerProcess(
          env,
          join(context.workDir, `worker-${run}-${instance}.log`),
          context.command,
        ),
      );
    }
  } catch (error) {
    await stopWorkers();
    await smtp.stop();
    throw error;
  }
  const pids = workers.map((worker) => worker.pid);
  const idleRss = Math.max(...pids.map((pid) => memoryStatus(pid)?.rss ?? Number.NaN));
  try {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    const warmUp = Array.from({ length: WARM_UP_EMAILS }, (_, index) =>
      emailMessage(`warm-${index}@example.com`, `run-${run}-warm-${index}`),
    );
    await enqueue(db, warmUp);
    await untilQueueEmpty(db, deadline, 50);

    const emails = Array.from({ length: options.emails }, (_, index) =>
      emailMessage(`user-${index}@example.com`, `run-${run}-email-${index}`),
    );
    const acceptedBefore = smtp.accepted();
    const loadBefore = await waitForQuietMachine(options.maxLoad, options.maxWaitSeconds);

    let sampledPeak = 0;
    const sampler = setInterval(() => {
      for (const pid of pids) sampledPeak = Math.max(sampledPeak, memoryStatus(pid)?.rss ?? 0);
    }, 100);
    // The clock starts at the commit: the worker sees the 10,000 only then.
    await enqueue(db, emails);
    const started = performance.now();
    const workersCpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const workerCpuBefore = workersCpu();
    const sinkCpu = process.cpuUsage();
    const postgresCpu = treeCpuMeter(context.serverPid);
    await untilQueueEmpty(db, deadline, 20);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const sinkUsage = process.cpuUsage(sinkCpu);
    const result: RunResult = {
      sink: sinkKind,
      settings,
      seconds,
      emailsPerSecond: options.emails / seconds,
      sampledPeakRssMb: sampledPeak / MB,
      idleRssMb: idleRss / MB,
      lifetimePeakRssMb: Math.max(...pids.map((pid) => memoryStatus(pid)?.peakRss ?? Number.NaN)) / MB,
      workerCpuSeconds: workersCpu() - workerCpuBefore,
      sinkCpuSeconds: (sinkUsage.user + sinkUsage.system) / 1e6,
      postgresCpuSeconds: postgresCpu.stop(),
      load: [loadBefore, loadPerCpu()],
    };

    // Every email went the whole way: recorded as sent, accepted by the server, nothing dead-lettered.
    const sent = await count(
      db,
      "select count(*) as n from automation.email_deliveries where status = 'sent' and idempotency_key like $1",
      [`run-${run}-email-%`],
    );
    const deadLetters = await count(db, "select count(*) as n from pgmq.q_email_queue_dlq");
    const accepted = smtp.accepted() - acceptedBefore;
    if (sent !== options.emails || accepted !== options.emails || deadLetters !== 0) {
      throw new Error(
        `run ${run}: ${sent} recorded as sent, ${accepted} accepted by SMTP, ${deadLetters} dead letters (expected ${options.emails}, ${options.emails}, 0)`,
      );
    }
    return result;
  } finally {
    await stopWorkers();
    await smtp.stop();
  }
}

const WORKER_DIR = fileURLToPath(new URL("../apps/worker/", import.meta.url));

/**
 * The node flags of apps/worker's `start` script (`node <flags> dist/main.mjs`), read from its
 * package.json so the benchmark starts the bundle exactly as production does.
 */
function startScriptNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(WORKER_DIR, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const start = manifest.scripts?.start ?? "";
  const words = start.trim().split(/\s+/);
  if (words[0] !== "node" || words.at(-1) !== "dist/main.mjs" || words.length < 2) {
    throw new Error(
      `email-pipeline: apps/worker's start script is not "node [flags] dist/main.mjs": "${start}"`,
    );
  }
  return words.slice(1, -1);
}

/** Builds the worker with its own build script into `outdir`, as `pnpm --filter @balansity/worker build` does. */
function buildWorker(outdir: string): void {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", "--outdir", outdir], {
    cwd: WORKER_DIR,
    encoding: "utf8",
  });
  if (build.status !== 0) {
    throw new Error(
      `email-pipeline: the worker's build failed (${build.status ?? build.signal}):\n${build.stdout}${build.stderr}`,
    );
  }
}

/** How the worker process is started: as shipped (its build's bundle, `start`'s flags) or through tsx. */
function workerCommand(options: Options, workDir: string): WorkerCommand {
  if (options.entry === "tsx")
    return { nodeArgs: ["--import", "tsx", ...options.nodeArgs], script: "src/main.ts" };
  const outdir = join(workDir, "worker-dist");
  buildWorker(outdir);
  return {
    nodeArgs: [...startScriptNodeFlags(), ...options.nodeArgs],
    script: join(outdir, "main.mjs"),
    env: shippedProcessEnv(WORKER_DIR),
  };
}

function describeCommand(options: Options, command: WorkerCommand): string {
  const parts = [
    options.entry === "tsx"
      ? `node ${(command.nodeArgs ?? []).join(" ")} src/main.ts (as pnpm start:ts)`
      : `${Object.entries(command.env ?? {})
          .map(([name, value]) => `${name}=${value} `)
          .join(
            "",
          )}node ${(command.nodeArgs ?? []).join(" ")} main.mjs (apps/worker/scripts/build.mjs into a temporary directory; the start script's flags${options.nodeArgs.length > 0 ? " + --node-args" : ""})`,
  ];
  if (options.instances > 1) parts.push(`${options.instances} worker processes (RSS: the largest of them)`);
  return parts.join("; ");
}

function settingsText(settings: WorkerSettings): string {
  return `${settings.concurrency} / ${settings.batchSize} / ${settings.smtpMaxConnections}`;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const machine = describeMachine();
  const workDir = mkdtempSync(join(tmpdir(), "balansity-email-bench-"));
  let command: WorkerCommand;
  try {
    command = workerCommand(options, workDir);
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  const postgres = await startThrowawayPostgres(options.durability);
  const results: RunResult[] = [];
  const floors: { run: number; settings: WorkerSettings; result: FloorResult }[] = [];
  let pgmqExtension = false;
  try {
    const app = await postgres.createAppDatabase("bench_email");
    pgmqExtension = app.pgmqExtension;
    const db = new pg.Pool({ connectionString: app.url, max: 2 });
    // The cluster is stopped right after the last run: a closing connection may see it go.
    db.on("error", () => undefined);
    try {
      let run = 0;
      for (const sink of options.sinks) {
        for (const settings of options.configs) {
          run += 1;
          process.stdout.write(
            `run ${run}: sink ${sink}, concurrency/batch/smtp ${settingsText(settings)} …\n`,
          );
          const result = await runOnce(run, sink, settings, {
            db,
            databaseUrl: app.url,
            serverPid: postgres.serverPid,
            workDir,
            command,
            options,
          });
          process.stdout.write(
            `  ${result.emailsPerSecond.toFixed(0)} emails/s, peak RSS ${result.sampledPeakRssMb.toFixed(0)} MB\n`,
          );
          results.push(result);
          if (sink === "discard") {
            const floor = await measureSmtpFloor({
              emails: options.emails,
              maxConnections: settings.smtpMaxConnections,
              inFlight: settings.concurrency,
            });
            process.stdout.write(
              `  floor (nodemailer → smtp-server): ${floor.emailsPerSecond.toFixed(0)} emails/s\n`,
            );
            floors.push({ run, settings, result: floor });
          }
        }
      }
    } finally {
      await db.end();
    }
  } finally {
    await postgres.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  const best = [...results].sort((a, b) => b.emailsPerSecond - a.emailsPerSecond)[0];
  const bestWithSink = (sink: SinkKind) =>
    results.filter((result) => result.sink === sink).sort((a, b) => b.emailsPerSecond - a.emailsPerSecond)[0];
  const peakRss = Math.max(...results.map((result) => result.lifetimePeakRssMb));
  const cores = (cpu: number, seconds: number) => (cpu / seconds).toFixed(2);
  const verdicts: string[] = [];
  for (const sink of options.sinks) {
    const top = bestWithSink(sink);
    if (!top) continue;
    verdicts.push(
      `≥ ${TARGET_EMAILS_PER_SECOND} emails/s with the ${sink} sink: ${top.emailsPerSecond >= TARGET_EMAILS_PER_SECOND ? "MET" : "NOT MET"} (best ${top.emailsPerSecond.toFixed(0)} emails/s at ${settingsText(top.settings)})`,
    );
  }
  const isShipped = (settings: WorkerSettings) =>
    settings.concurrency === SHIPPED.concurrency &&
    settings.batchSize === SHIPPED.batchSize &&
    settings.smtpMaxConnections === SHIPPED.smtpMaxConnections;
  const shippedRun = results.find((result) => result.sink === "discard" && isShipped(result.settings));
  const shippedFloor = floors.find((floor) => isShipped(floor.settings));
  if (shippedRun && shippedFloor) {
    const ratio = shippedRun.emailsPerSecond / shippedFloor.result.emailsPerSecond;
    verdicts.push(
      `shipped defaults (${settingsText(shippedRun.settings)}) vs the bare nodemailer → smtp-server floor: ${ratio.toFixed(2)}× (target ≥ ${TARGET_VS_FLOOR}×: ${ratio >= TARGET_VS_FLOOR ? "MET" : "NOT MET"}; ${shippedRun.emailsPerSecond.toFixed(0)} vs ${shippedFloor.result.emailsPerSecond.toFixed(0)} emails/s)`,
    );
  }
  verdicts.push(
    `worker RSS < ${TARGET_PEAK_RSS_MB} MB at peak: ${peakRss < TARGET_PEAK_RSS_MB ? "MET" : "NOT MET"} (highest VmHWM of all runs: ${peakRss.toFixed(0)} MB)`,
  );

  console.log(
    [
      "",
      `email-pipeline: ${machineLine(machine)}; ${postgres.description}, pgmq ${pgmqExtension ? "extension" : "compatible SQL"}`,
      `command: node --import tsx email-pipeline.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `worker: ${describeCommand(options, command)}`,
      `${options.emails} emails (template checkup_completed, ru) per run after ${WARM_UP_EMAILS} warm-up ones; worker = apps/worker/src/main.ts (${options.entry === "bundle" ? "bundled" : "through tsx"}) in a child process, NODE_ENV=${options.nodeEnv}, LOG_LEVEL=${options.logLevel} (to a file), WORKER_POLL_INTERVAL_MS=${testWorkerEnv({ databaseUrl: "", smtpPort: 0 }).WORKER_POLL_INTERVAL_MS}, SMTP without TLS on loopback; the SMTP server in the benchmark's process`,
      "",
      "settings = QUEUE_EMAIL_QUEUE_CONCURRENCY / QUEUE_EMAIL_QUEUE_BATCH_SIZE / SMTP_MAX_CONNECTIONS; CPU in cores used on average over the run (2 available); load = 1-min load average per CPU before → after",
      "",
      markdownTable(
        [
          "sink",
          "settings",
          "seconds",
          "emails/s",
          "RSS idle (MB)",
          "RSS peak in run (MB)",
          "VmHWM (MB)",
          "worker CPU",
          "SMTP server CPU",
          "PostgreSQL CPU",
          "load",
        ],
        results.map((result) => [
          result.sink,
          settingsText(result.settings),
          result.seconds.toFixed(2),
          result.emailsPerSecond.toFixed(0),
          result.idleRssMb.toFixed(0),
          result.sampledPeakRssMb.toFixed(0),
          result.lifetimePeakRssMb.toFixed(0),
          cores(result.workerCpuSeconds, result.seconds),
          cores(result.sinkCpuSeconds, result.seconds),
          cores(result.postgresCpuSeconds, result.seconds),
          `${result.load[0].toFixed(2)} → ${result.load[1].toFixed(2)}`,
        ]),
      ),
      "",
      "Floor in the same run (after each discard-sink run): the worker's pooled nodemailer transport → the discard smtp-server in another process; no database, no rendering; CPU in cores:",
      "",
      markdownTable(
        [
          "after run",
          "SMTP connections",
          "sends waiting",
          "seconds",
          "emails/s",
          "pipeline ÷ floor",
          "sender CPU",
          "SMTP server CPU",
        ],
        floors.map((floor) => {
          const pipeline = results.find(
            (result) => result.sink === "discard" && result.settings === floor.settings,
          );
          return [
            floor.run,
            floor.settings.smtpMaxConnections,
            floor.settings.concurrency,
            floor.result.seconds.toFixed(2),
            floor.result.emailsPerSecond.toFixed(0),
            pipeline ? `${(pipeline.emailsPerSecond / floor.result.emailsPerSecond).toFixed(2)}×` : "–",
            cores(floor.result.senderCpuSeconds, floor.result.seconds),
            cores(floor.result.serverCpuSeconds, floor.result.seconds),
          ];
        }),
      ),
      "",
      best
        ? `best: ${best.emailsPerSecond.toFixed(0)} emails/s with the ${best.sink} sink at ${settingsText(best.settings)}`
        : "",
      ...verdicts,
    ].join("\n"),
  );
}

await main();
