/**
 * Runs the worker's source as `start:ts` does — `node --import tsx src/main.ts`, configured only by its
 * environment (production runs the same code bundled: test/deploy-folder.test.ts) — as a child process a test can SIGKILL (a crash mid-batch) or watch exit (bad config).
 * stdout is read line by line as pino JSON; stderr is kept as text.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
// Resolved from the worker package, as an absolute URL, so the loader is found from any directory.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One pino line from the child's stdout. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

export interface WorkerProcess {
  readonly pid: number;
  /** The ops HTTP server's base URL, from the "worker started" line. */
  readonly url: string;
  /** Every JSON line the child wrote to stdout so far (non-JSON lines are dropped). */
  readonly logs: readonly LogLine[];
  /** Settles once the child has exited and its pipes are drained. */
  readonly exited: Promise<ProcessExit>;
  /** Sends `signal` (default SIGKILL: a crash) and resolves once the child has exited. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** SIGTERM (graceful shutdown), SIGKILL when that takes over 15 s. */
  stop(): Promise<ProcessExit>;
}

/** The least a child needs from this process's environment: nothing the worker reads as configuration. */
function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
  };
}

function spawnMain(env: Record<string, string>, main: string): ChildProcess {
  return spawn(process.execPath, ["--import", TSX_LOADER, main], {
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exitOf(child: ChildProcess): Promise<ProcessExit> {
  return new Promise((resolve) => {
    // "close", not "exit": by then stdout and stderr have been read to the end.
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
}

/**
 * Starts `src/main.ts` with exactly `env` (plus PATH and HOME) and resolves once it logged
 * "worker started" (LOG_LEVEL must be info or more verbose). Rejects, with stderr and the last log
 * lines, when it exits first or is not ready in time; the child is killed then.
 *
 * ### Examples
 * ```ts
 * const worker = await spawnWorkerProcess({ ...testWorkerEnv({ databaseUrl, smtpPort }), LOG_LEVEL: "info" });
 * await worker.kill(); // SIGKILL: in-flight messages reappear after their visibility timeout
 * ```
 */
export async function spawnWorkerProcess(
  env: Record<string, string>,
  {
    readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS,
    main = MAIN,
  }: {
    readyTimeoutMs?: number;
    /** Another checkout's `apps/worker/src/main.ts` (a benchmark's "before"); default this one's. */
    main?: string;
  } = {},
): Promise<WorkerProcess> {
  const child = spawnMain(env, main);
  const exited = exitOf(child);
  // Never leave a worker behind when the test process goes away without stopping it.
  const killOnParentExit = () => child.kill("SIGKILL");
  process.once("exit", killOnParentExit);
  void exited.then(() => process.off("exit", killOnParentExit));

  const logs: LogLine[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });

  let onStarted: ((line: LogLine) => void) | undefined;
  const started = new Promise<LogLine>((resolve) => {
    onStarted = resolve;
  });
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (text) => {
      const line = parseJson(text);
      if (line === undefined) return;
      logs.push(line);
      if (line.msg === "worker started") onStarted?.(line);
    });
  }

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const describe = () =>
    `stderr:\n${stderr}\nlast log lines:\n${logs
      .slice(-10)
      .map((line) => JSON.stringify(line))
      .join("\n")}`;

  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await Promise.race([
      started,
      exited.then(({ code, signal }) => {
        throw new Error(
          `the worker exited (code ${code}, signal ${signal}) before it started; ${describe()}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`the worker did not log "worker started" within ${readyTimeoutMs} ms; ${describe()}`),
            ),
          readyTimeoutMs,
        );
      }),
    ]);
    const url = line.http;
    if (typeof url !== "string") throw new Error(`"worker started" has no http url: ${JSON.stringify(line)}`);
    const pid = child.pid;
    if (pid === undefined) throw new Error("the worker process has no pid");
    return {
      pid,
      url,
      logs,
      exited,
      kill,
      async stop() {
        const hard = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        try {
          return await kill("SIGTERM");
        } finally {
          clearTimeout(hard);
        }
      },
    };
  } catch (error) {
    await kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `src/main.ts` with exactly `env` (plus PATH and HOME) until it exits by itself; kills it and
 * rejects after `timeoutMs`. For start-up failures, where the process must end on its own.
 */
export async function runWorkerUntilExit(
  env: Record<string, string>,
  { timeoutMs = 20_000 } = {},
): Promise<ProcessExit & { readonly stdout: string; readonly stderr: string }> {
  const child = spawnMain(env, MAIN);
  const exited = exitOf(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(
            new Error(
              `the worker did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs);
      }),
    ]);
    return { ...exit, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
