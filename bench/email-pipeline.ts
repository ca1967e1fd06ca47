// The whole email pipeline with the real worker: read from email_queue → render (react-email) → claim
// the delivery (automation.email_deliveries) → SMTP through the pooled nodemailer transport → record the
// delivery → archive. Emails per second from the moment 10,000 emails are committed to the queue until
// it is empty, and the worker's peak resident memory.
//
//   cd bench && node --import tsx email-pipeline.ts [--emails 10000] [--configs 32/32/5,64/64/10]
//        [--sinks devstack,discard] [--durability durable|fast] [--log-level info] [--node-env production]
//        [--entry tsx|bundle] [--render as-is|lean] [--smtp as-is|nodelay] [--instances 1]
//        [--node-args="--cpu-prof …"]
//   pnpm --filter @balansity/bench email-pipeline
//
// A config is CONCURRENCY/BATCH_SIZE/SMTP_MAX_CONNECTIONS (QUEUE_EMAIL_QUEUE_CONCURRENCY,
// QUEUE_EMAIL_QUEUE_BATCH_SIZE, SMTP_MAX_CONNECTIONS). Sinks:
//   devstack  the devstack's SMTP sink (startSmtpSink): parses every message with mailparser
//   discard   a minimal smtp-server that accepts and throws away (support/discard-smtp-server.ts)
// The SMTP server runs in this process; the worker runs as a child process (apps/worker/src/main.ts,
// the production entry point, env as in test/support/test-worker.ts), so its RSS and CPU are its own:
// RSS sampled every 100 ms from /proc/<pid>/status (VmRSS) and the peak since start (VmHWM). CPU
// seconds of the worker, of this process (the SMTP server) and of PostgreSQL are reported too, to show
// which of them limits the rate on this machine.
//
// Variants, to measure proposed changes without touching the worker's source:
//   --entry bundle   run an esbuild bundle of src/main.ts with plain node instead of tsx's loader
//   --render lean    swap renderEmail for the prototype in support/lean-render-email.ts
//   --smtp nodelay   swap the SMTP transport for support/nodelay-smtp-transport.ts (TCP_NODELAY)
//   --instances N    N worker processes (as WORKER_PM2_INSTANCES does)
//   --node-args      extra node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//
// Each run: a fresh worker; 50 warm-up emails (first renders, SMTP connections) handled and left out;
// then 10,000 emails (distinct idempotency keys and recipients) sent with pgmq.send_batch in one
// transaction; the clock starts at its commit and stops when email_queue is empty; then every email
// is checked to be recorded as sent and accepted by the server.
// Targets: ≥ 500 emails/s on this 2-core machine; worker RSS < 200 MB at peak.
// Environment: DEVSTACK_POSTGRES (auto | system | embedded), PG_BIN, as for the devstack.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startSmtpSink } from "@balansity/devstack";
import pg from "pg";
import { emailMessage } from "../apps/worker/test/support/domain.ts";
import { testWorkerEnv } from "../apps/worker/test/support/test-worker.ts";
import { startDiscardSmtpServer } from "./support/discard-smtp-server.ts";
import { htmlToTextBesideRender } from "./support/html-to-text-path.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { markdownTable } from "./support/markdown-table.ts";
import { cpuSeconds, memoryStatus, treeCpuMeter } from "./support/proc-stats.ts";
import { loadPerCpu, waitForQuietMachine } from "./support/quiet-machine.ts";
import { startThrowawayPostgres } from "./support/throwaway-postgres.ts";
import { bundleWorker } from "./support/worker-bundle.ts";
import { startWorkerProcess, type WorkerCommand, type WorkerProcess } from "./support/worker-process.ts";

const SINKS = ["devstack", "discard"] as const;
type SinkKind = (typeof SINKS)[number];

const TARGET_EMAILS_PER_SECOND = 500;
const TARGET_PEAK_RSS_MB = 200;
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
  readonly entry: "tsx" | "bundle";
  readonly render: "as-is" | "lean";
  readonly nodeArgs: readonly string[];
  readonly nodeEnv: string;
  readonly instances: number;
  readonly smtp: "as-is" | "nodelay";
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
      entry: { type: "string", default: "tsx" },
      render: { type: "string", default: "as-is" },
      "node-args": { type: "string", default: "" },
      "node-env": { type: "string", default: "production" },
      instances: { type: "string", default: "1" },
      smtp: { type: "string", default: "as-is" },
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
  if (values.smtp !== "as-is" && values.smtp !== "nodelay") problems.push("--smtp must be as-is or nodelay");
  if (values.entry !== "tsx" && values.entry !== "bundle") problems.push("--entry must be tsx or bundle");
  if (values.render !== "as-is" && values.render !== "lean") problems.push("--render must be as-is or lean");
  if (problems.length > 0) throw new Error(`email-pipeline: ${problems.join("; ")}`);
  return {
    emails,
    configs,
    sinks: sinks as SinkKind[],
    durability: values.durability === "fast" ? "fast" : "durable",
    logLevel: values["log-level"],
    entry: values.entry === "bundle" ? "bundle" : "tsx",
    render: values.render === "lean" ? "lean" : "as-is",
    nodeArgs: values["node-args"].split(" ").filter(Boolean),
    nodeEnv: values["node-env"],
    instances,
    smtp: values.smtp === "nodelay" ? "nodelay" : "as-is",
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

const PROTOTYPE_HOOK = fileURLToPath(new URL("./support/prototype-hook.ts", import.meta.url));

/** The worker imports that --render lean and --smtp nodelay swap for prototypes in bench/support. */
function prototypes(options: Options): { specifier: string; parent: string; file: string }[] {
  const list: { specifier: string; parent: string; file: string }[] = [];
  if (options.render === "lean") {
    list.push({
      specifier: "@balansity/emails",
      parent: "/apps/worker/src/processors/email-processor.ts",
      file: fileURLToPath(new URL("./support/lean-emails.ts", import.meta.url)),
    });
  }
  if (options.smtp === "nodelay") {
    list.push({
      specifier: "../email/smtp-transport.ts",
      parent: "/apps/worker/src/processors/build-processors.ts",
      file: fileURLToPath(new URL("./support/nodelay-smtp-transport.ts", import.meta.url)),
    });
  }
  return list;
}

/** How the worker process is started: through tsx as `pnpm start` does, or as one bundled file. */
async function workerCommand(options: Options, workDir: string): Promise<WorkerCommand> {
  const swaps = prototypes(options);
  if (options.entry === "tsx") {
    return {
      nodeArgs: [
        "--import",
        "tsx",
        ...(swaps.length ? ["--import", PROTOTYPE_HOOK] : []),
        ...options.nodeArgs,
      ],
      env: { BENCH_PROTOTYPES: JSON.stringify(swaps) },
    };
  }
  const script = join(workDir, "worker.mjs");
  await bundleWorker(script, Object.fromEntries(swaps.map((swap) => [swap.specifier, swap.file])));
  // A bundle's import.meta.url is its own: tell the lean renderer where html-to-text is.
  const env = options.render === "lean" ? { BENCH_HTML_TO_TEXT: htmlToTextBesideRender() } : {};
  return { nodeArgs: [...options.nodeArgs], script, env };
}

function describeCommand(options: Options): string {
  const parts = [
    options.entry === "tsx"
      ? "node --import tsx src/main.ts (as pnpm start)"
      : "node worker.mjs (esbuild bundle of src/main.ts)",
    options.render === "lean"
      ? "renderEmail: PROTOTYPE lean render (bench/support/lean-render-email.ts: one React render, compiled html-to-text, kept formatters)"
      : "renderEmail as committed",
  ];
  if (options.smtp === "nodelay") {
    parts.push("SMTP: PROTOTYPE TCP_NODELAY sockets (bench/support/nodelay-smtp-transport.ts)");
  }
  if (options.nodeArgs.length > 0) parts.push(`node flags ${options.nodeArgs.join(" ")}`);
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
  const command = await workerCommand(options, workDir);
  const postgres = await startThrowawayPostgres(options.durability);
  const results: RunResult[] = [];
  let pgmqExtension = false;
  try {
    const app = await postgres.createAppDatabase("bench_email");
    pgmqExtension = app.pgmqExtension;
    const db = new pg.Pool({ connectionString: app.url, max: 2 });
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
  verdicts.push(
    `worker RSS < ${TARGET_PEAK_RSS_MB} MB at peak: ${peakRss < TARGET_PEAK_RSS_MB ? "MET" : "NOT MET"} (highest VmHWM of all runs: ${peakRss.toFixed(0)} MB)`,
  );

  console.log(
    [
      "",
      `email-pipeline: ${machineLine(machine)}; ${postgres.description}, pgmq ${pgmqExtension ? "extension" : "compatible SQL"}`,
      `command: node --import tsx email-pipeline.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `worker: ${describeCommand(options)}`,
      `${options.emails} emails (template checkup_completed, ru) per run after ${WARM_UP_EMAILS} warm-up ones; worker = apps/worker/src/main.ts in a child process, NODE_ENV=${options.nodeEnv}, LOG_LEVEL=${options.logLevel} (to a file), WORKER_POLL_INTERVAL_MS=${testWorkerEnv({ databaseUrl: "", smtpPort: 0 }).WORKER_POLL_INTERVAL_MS}, SMTP without TLS on loopback; the SMTP server in the benchmark's process`,
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
      best
        ? `best: ${best.emailsPerSecond.toFixed(0)} emails/s with the ${best.sink} sink at ${settingsText(best.settings)}`
        : "",
      ...verdicts,
    ].join("\n"),
  );
}

await main();
