// No-op throughput and enqueue → handler-start latency of our worker (apps/worker: QueueConsumer with
// prefetch and LISTEN/NOTIFY wake-ups) against graphile-worker 0.18 in its batched mode, pg-boss 12 with
// batch fetching, and a plain pgmq consumer, in one run, on one throwaway PostgreSQL cluster (each
// system in its own database), on the same machine, in alternating rounds (ours, graphile, pg-boss,
// raw pgmq; ours, graphile, …) so that a change in the machine's load hits every system alike.
//
//   cd bench && node --import tsx worker-throughput.ts [--messages 20000] [--rounds 3]
//        [--concurrency 32] [--batch-size 100] [--rate 200] [--seconds 15] [--durability durable|fast]
//        [--systems balansity,graphile,pgboss,pgmq] [--graphile-concurrency 24] [--graphile-local-queue 500]
//        [--pgboss-batch 200] [--pgboss-workers 4] [--raw-loops 4] [--raw-qty 100] [--timeout 60]
//        [--log-level silent]
//   pnpm --filter @balansity/bench worker-throughput
//
// Per system and round (never two systems at once):
//   throughput  pre-enqueue N messages in bulk, start the workers, time until the last handler ran and
//               until the queue is empty in the database (archived / completed); msgs/s = N / the
//               latter. A system that has not finished after --timeout seconds is stopped there and
//               its rate is what it handled in that time.
//   latency     workers idle and running: enqueue one message per statement at --rate msg/s for
//               --seconds s; latency = handler start − the moment the send was issued (same process,
//               same monotonic clock). p50 / p95 / p99 / max.
// Also the CPU seconds PostgreSQL and this process used per 1,000 messages in the throughput phase, and
// this process's resident memory after each system's phases (every system runs in this process: an
// upper bound for each, benchmark included).
// Targets for ours (issue 10): throughput ≥ 1.0× graphile-worker batched and ≥ 0.9× the raw pgmq
// consumer; p50 ≤ 3 ms and p99 ≤ 25 ms at 200 msg/s.
// Environment: DEVSTACK_POSTGRES (auto | system | embedded), PG_BIN, as for the devstack.
import { parseArgs } from "node:util";
import { graphileNoopSystem } from "./support/graphile-noop-system.ts";
import { atFixedRate, type LatencySummary, ms, summarize } from "./support/latency-stats.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { markdownTable } from "./support/markdown-table.ts";
import { pgBossNoopSystem } from "./support/pgboss-noop-system.ts";
import { pgmqNoopSystem } from "./support/pgmq-noop-system.ts";
import { treeCpuMeter } from "./support/proc-stats.ts";
import type { NoopQueueSystem } from "./support/queue-system.ts";
import { loadPerCpu, waitForQuietMachine } from "./support/quiet-machine.ts";
import { rawPgmqNoopSystem } from "./support/raw-pgmq-noop-system.ts";
import { startThrowawayPostgres, withClient } from "./support/throwaway-postgres.ts";

const SYSTEMS = ["balansity", "graphile", "pgboss", "pgmq"] as const;
type SystemId = (typeof SYSTEMS)[number];

const TARGET_P50_MS = 3;
const TARGET_P99_MS = 25;
const TARGET_VS_GRAPHILE = 1.0;
const TARGET_VS_RAW = 0.9;
/** How long the latency phase waits for the last handler after the last send (a system slower than the
 * send rate works off its backlog meanwhile). */
const LATENCY_DRAIN_MS = 120_000;

interface Options {
  readonly messages: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly graphileConcurrency: number;
  readonly graphileLocalQueue: number;
  readonly pgbossBatch: number;
  readonly pgbossWorkers: number;
  readonly rawLoops: number;
  readonly rawQty: number;
  readonly rate: number;
  readonly seconds: number;
  readonly durability: "durable" | "fast";
  readonly systems: readonly SystemId[];
  readonly timeoutSeconds: number;
  readonly logLevel: string;
  readonly rounds: number;
  readonly maxLoad: number;
  readonly maxWaitSeconds: number;
}

interface ThroughputResult {
  readonly handled: number;
  readonly handlersSeconds: number;
  readonly drainedSeconds: number | undefined;
  readonly timedOut: boolean;
  readonly postgresCpuSeconds: number;
  readonly nodeCpuSeconds: number;
}

interface SystemResult {
  readonly round: number;
  /** 1-minute load average per CPU when this system's measurement started and ended. */
  readonly load: readonly [number, number];
  readonly name: string;
  readonly settings: string;
  readonly throughput: ThroughputResult;
  readonly latency: LatencySummary;
  readonly sendLateness: LatencySummary;
  /** How long each send took to commit (the producer's round trip). */
  readonly sendDuration: LatencySummary;
  readonly sent: number;
  /** This process's resident set after the system's phases, MB. */
  readonly rssMb: number;
}

function readOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      messages: { type: "string", default: "20000" },
      concurrency: { type: "string", default: "32" },
      "batch-size": { type: "string", default: "100" },
      "graphile-concurrency": { type: "string", default: "24" },
      "graphile-local-queue": { type: "string", default: "500" },
      "pgboss-batch": { type: "string", default: "200" },
      "pgboss-workers": { type: "string", default: "4" },
      "raw-loops": { type: "string", default: "4" },
      "raw-qty": { type: "string", default: "100" },
      rate: { type: "string", default: "200" },
      seconds: { type: "string", default: "15" },
      durability: { type: "string", default: "durable" },
      systems: { type: "string", default: SYSTEMS.join(",") },
      timeout: { type: "string", default: "60" },
      "log-level": { type: "string", default: "silent" },
      rounds: { type: "string", default: "3" },
      "max-load": { type: "string", default: "0.5" },
      "max-wait": { type: "string", default: "300" },
    },
  });
  const problems: string[] = [];
  const positive = (name: string, raw: string) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1)
      problems.push(`--${name} must be a positive integer (got "${raw}")`);
    return value;
  };
  const systems = values.systems.split(",").map((name) => name.trim());
  for (const name of systems) {
    if (!(SYSTEMS as readonly string[]).includes(name))
      problems.push(`--systems: unknown "${name}" (${SYSTEMS.join(", ")})`);
  }
  if (values.durability !== "durable" && values.durability !== "fast")
    problems.push("--durability must be durable or fast");
  const options = {
    messages: positive("messages", values.messages),
    concurrency: positive("concurrency", values.concurrency),
    batchSize: positive("batch-size", values["batch-size"]),
    graphileConcurrency: positive("graphile-concurrency", values["graphile-concurrency"]),
    graphileLocalQueue: positive("graphile-local-queue", values["graphile-local-queue"]),
    pgbossBatch: positive("pgboss-batch", values["pgboss-batch"]),
    pgbossWorkers: positive("pgboss-workers", values["pgboss-workers"]),
    rawLoops: positive("raw-loops", values["raw-loops"]),
    rawQty: positive("raw-qty", values["raw-qty"]),
    rate: positive("rate", values.rate),
    seconds: positive("seconds", values.seconds),
    durability: values.durability === "fast" ? ("fast" as const) : ("durable" as const),
    systems: systems as SystemId[],
    timeoutSeconds: positive("timeout", values.timeout),
    logLevel: values["log-level"],
    rounds: positive("rounds", values.rounds),
    maxLoad: Number(values["max-load"]),
    maxWaitSeconds: Number(values["max-wait"]),
  };
  if (Number.isNaN(options.maxLoad) || Number.isNaN(options.maxWaitSeconds))
    problems.push("--max-load and --max-wait must be numbers");
  if (problems.length > 0) throw new Error(`worker-throughput: ${problems.join("; ")}`);
  return options;
}

async function makeSystem(id: SystemId, url: string, options: Options): Promise<NoopQueueSystem> {
  switch (id) {
    case "balansity":
      return pgmqNoopSystem({
        url,
        concurrency: options.concurrency,
        batchSize: options.batchSize,
        logLevel: options.logLevel,
      });
    case "graphile":
      return graphileNoopSystem({
        url,
        concurrency: options.graphileConcurrency,
        maxPoolSize: 10,
        localQueueSize: options.graphileLocalQueue,
        refetchDelayMs: 10,
      });
    case "pgboss":
      return pgBossNoopSystem({
        url,
        batchSize: options.pgbossBatch,
        localConcurrency: options.pgbossWorkers,
        max: 10,
      });
    case "pgmq":
      return rawPgmqNoopSystem({ url, loops: options.rawLoops, qty: options.rawQty });
  }
}

/** Resolves once `condition()` is true (checked every `intervalMs`), or false at the deadline. */
async function until(
  condition: () => boolean | Promise<boolean>,
  deadline: number,
  intervalMs: number,
): Promise<boolean> {
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function measureSystem(
  system: NoopQueueSystem,
  url: string,
  serverPid: number,
  options: Options,
  round: number,
): Promise<SystemResult> {
  const loadBefore = await waitForQuietMachine(options.maxLoad, options.maxWaitSeconds);
  // One handler callback for the whole life of the workers; each phase swaps what it does.
  let onHandle: (key: string) => void = () => undefined;

  // --- throughput ---
  const keys = Array.from({ length: options.messages }, (_, index) => `tp-${index}`);
  await system.enqueueBulk(keys);
  await withClient(url, async (client) => {
    await client.query("vacuum analyze");
    await client.query("checkpoint");
  });
  let handled = 0;
  let lastHandled = 0;
  onHandle = () => {
    handled += 1;
    lastHandled = performance.now();
  };
  const postgresCpu = treeCpuMeter(serverPid);
  const nodeCpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.timeoutSeconds * 1000;
  await system.start((key) => onHandle(key));
  const allHandled = await until(() => handled >= options.messages, deadline, 5);
  let drainedSeconds: number | undefined;
  if (allHandled && (await until(async () => (await system.pending()) === 0, deadline, 10))) {
    drainedSeconds = (performance.now() - started) / 1000;
  }
  const usage = process.cpuUsage(nodeCpu);
  const throughput: ThroughputResult = {
    handled,
    handlersSeconds: ((allHandled ? lastHandled : performance.now()) - started) / 1000,
    drainedSeconds,
    timedOut: drainedSeconds === undefined,
    postgresCpuSeconds: postgresCpu.stop(),
    nodeCpuSeconds: (usage.user + usage.system) / 1e6,
  };
  // Whatever a timed-out system left behind is handled before the latency phase starts.
  onHandle = () => undefined;
  if (throughput.timedOut) {
    process.stdout.write(
      `  ${system.name}: throughput phase stopped at ${options.timeoutSeconds} s; purging the rest\n`,
    );
    await system.purge();
    await until(async () => (await system.pending()) === 0, performance.now() + 60_000, 100);
  }

  // --- latency: workers idle and running ---
  // The throughput phase left N dead rows in every system's job table; autovacuum would clear them
  // sooner or later, so clear them now for all alike rather than let them tax the first reads.
  await withClient(url, (client) => client.query("vacuum analyze"));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const sendDurations: number[] = [];
  onHandle = (key) => {
    const sent = sentAt.get(key);
    if (sent !== undefined) latencies.push(performance.now() - sent);
  };
  const count = options.rate * options.seconds;
  const { lateness } = await atFixedRate(count, options.rate, async (index) => {
    const key = `lat-${index}`;
    const sent = performance.now();
    sentAt.set(key, sent);
    await system.sendOne(key);
    sendDurations.push(performance.now() - sent);
  });
  await until(() => latencies.length >= count, performance.now() + LATENCY_DRAIN_MS, 5);
  return {
    round,
    load: [loadBefore, loadPerCpu()],
    name: system.name,
    settings: system.settings,
    throughput,
    latency: summarize(latencies),
    sendLateness: lateness,
    sendDuration: summarize(sendDurations),
    sent: count,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
}

function throughputRow(result: SystemResult, messages: number): (string | number)[] {
  const t = result.throughput;
  const seconds = t.drainedSeconds ?? t.handlersSeconds;
  const rate = (t.timedOut ? t.handled : messages) / seconds;
  const per1000 = (cpu: number) => ((cpu / Math.max(1, t.handled)) * 1000).toFixed(2);
  return [
    result.round,
    result.name,
    t.timedOut ? `${t.handled} of ${messages} (stopped)` : String(messages),
    t.handlersSeconds.toFixed(2),
    t.drainedSeconds === undefined ? "–" : t.drainedSeconds.toFixed(2),
    Math.round(rate).toString(),
    per1000(t.postgresCpuSeconds),
    per1000(t.nodeCpuSeconds),
    loadText(result.load),
  ];
}

function latencyRow(result: SystemResult): (string | number)[] {
  const l = result.latency;
  return [
    result.round,
    result.name,
    `${l.count} / ${result.sent}`,
    ms(l.p50),
    ms(l.p95),
    ms(l.p99),
    ms(l.max),
    ms(l.mean),
    loadText(result.load),
  ];
}

function loadText([before, after]: readonly [number, number]): string {
  return `${before.toFixed(2)} → ${after.toFixed(2)}`;
}

function median(values: readonly number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const machine = describeMachine();
  const postgres = await startThrowawayPostgres(options.durability);
  const results: SystemResult[] = [];
  try {
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const id of options.systems) {
        const database = `bench_${id}_${round}`;
        const url =
          id === "balansity" || id === "pgmq"
            ? (await postgres.createAppDatabase(database)).url
            : await postgres.createDatabase(database);
        const system = await makeSystem(id, url, options);
        process.stdout.write(`round ${round}: measuring ${system.name} …\n`);
        try {
          results.push(await measureSystem(system, url, postgres.serverPid, options, round));
        } finally {
          await system.stop();
        }
      }
    }
  } finally {
    await postgres.stop();
  }

  const names = [...new Set(results.map((result) => result.name))];
  const ofSystem = (name: string) => results.filter((result) => result.name === name);
  const rateOf = (result: SystemResult) => {
    const t = result.throughput;
    return t.timedOut ? t.handled / t.handlersSeconds : options.messages / (t.drainedSeconds ?? Number.NaN);
  };
  const summary = names.map((name) => {
    const runs = ofSystem(name);
    return {
      name,
      rate: median(runs.map(rateOf)),
      timedOut: runs.some((run) => run.throughput.timedOut),
      p50: median(runs.map((run) => run.latency.p50)),
      p95: median(runs.map((run) => run.latency.p95)),
      p99: median(runs.map((run) => run.latency.p99)),
      max: Math.max(...runs.map((run) => run.latency.max)),
      rssMb: Math.max(...runs.map((run) => run.rssMb)),
    };
  });
  const ours = summary.find((row) => row.name.startsWith("balansity"));
  const graphile = summary.find((row) => row.name.startsWith("graphile"));
  const raw = summary.find((row) => row.name.startsWith("raw pgmq"));
  const pgboss = summary.find((row) => row.name.startsWith("pg-boss"));
  const verdicts: string[] = [];
  const ratio = (peer: { name: string; rate: number } | undefined, target: number) => {
    if (!ours || !peer) return;
    const value = ours.rate / peer.rate;
    verdicts.push(
      `throughput vs ${peer.name}: ${value.toFixed(2)}× (target ≥ ${target.toFixed(1)}×: ${value >= target ? "MET" : "NOT MET"}; ${Math.round(ours.rate)} vs ${Math.round(peer.rate)} msgs/s)`,
    );
  };
  ratio(graphile, TARGET_VS_GRAPHILE);
  ratio(raw, TARGET_VS_RAW);
  if (ours && pgboss) {
    verdicts.push(`throughput vs ${pgboss.name}: ${(ours.rate / pgboss.rate).toFixed(2)}× (no target)`);
  }
  if (ours) {
    verdicts.push(
      `latency p50 ≤ ${TARGET_P50_MS} ms: ${ours.p50 <= TARGET_P50_MS ? "MET" : "NOT MET"} (${ms(ours.p50)} ms)`,
    );
    verdicts.push(
      `latency p99 ≤ ${TARGET_P99_MS} ms: ${ours.p99 <= TARGET_P99_MS ? "MET" : "NOT MET"} (${ms(ours.p99)} ms)`,
    );
  }
  const medianOf = options.rounds > 1 ? ` (median of ${options.rounds} rounds; max: the largest)` : "";

  console.log(
    [
      "",
      `worker-throughput: ${machineLine(machine)}; ${postgres.description}`,
      `command: node --import tsx worker-throughput.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `N = ${options.messages} pre-enqueued no-op messages; latency at ${options.rate} msg/s for ${options.seconds} s, one message per statement; ${options.rounds} round(s), systems one at a time in alternating order`,
      "",
      "Settings:",
      ...names.map((name) => `- ${name}: ${ofSystem(name)[0]?.settings ?? ""}`),
      "",
      `Summary${medianOf}:`,
      "",
      markdownTable(
        ["system", "throughput (msgs/s)", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)", "process RSS (MB)"],
        summary.map((row) => [
          row.name,
          `${Math.round(row.rate)}${row.timedOut ? " (time-limited)" : ""}`,
          ms(row.p50),
          ms(row.p95),
          ms(row.p99),
          ms(row.max),
          Math.round(row.rssMb),
        ]),
      ),
      "",
      "Throughput per round (N pre-enqueued; time from starting the workers; load = 1-min load average per CPU before → after):",
      "",
      markdownTable(
        [
          "round",
          "system",
          "handled",
          "last handler (s)",
          "queue empty (s)",
          "msgs/s",
          "PG CPU s / 1k",
          "Node CPU s / 1k",
          "load",
        ],
        results.map((result) => throughputRow(result, options.messages)),
      ),
      "",
      `Latency per round, enqueue → handler start (ms), ${options.rate} msg/s for ${options.seconds} s:`,
      "",
      markdownTable(
        ["round", "system", "handled / sent", "p50", "p95", "p99", "max", "mean", "load"],
        results.map(latencyRow),
      ),
      "",
      "Producer side of the latency runs (ms): how late sends left their schedule, and how long a send took to commit:",
      "",
      markdownTable(
        ["round", "system", "late p50", "late p99", "send p50", "send p99", "send max"],
        results.map((result) => [
          result.round,
          result.name,
          ms(result.sendLateness.p50),
          ms(result.sendLateness.p99),
          ms(result.sendDuration.p50),
          ms(result.sendDuration.p99),
          ms(result.sendDuration.max),
        ]),
      ),
      "",
      ...verdicts,
    ].join("\n"),
  );
}

await main();
