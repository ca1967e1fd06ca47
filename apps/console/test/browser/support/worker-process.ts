/**
 * The queue worker as its own process (`node --import tsx apps/worker/src/main.ts`, as the worker's
 * `start:ts` script runs it), configured by its environment only, against a test database and SMTP sink.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

// The worker is an app, not a library: its entry point is run, never imported.
const WORKER_MAIN = fileURLToPath(new URL("../../../../worker/src/main.ts", import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export interface WorkerProcess {
  /** Every stdout line (pino JSON) so far, for a failing test's message. */
  readonly output: readonly string[];
  /** SIGTERM (graceful), SIGKILL after 15 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export async function spawnWorker(options: {
  readonly databaseUrl: string;
  readonly smtpPort: number;
  readonly readyTimeoutMs?: number;
  /** More of the worker's settings (SMTP_SEND_LIMIT, …). */
  readonly env?: Readonly<Record<string, string>>;
}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", TSX_LOADER, WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: options.databaseUrl,
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(options.smtpPort),
      SMTP_SECURE: "none",
      SMTP_FROM: "noreply@balansity.test",
      WORKER_HTTP_HOST: "127.0.0.1",
      WORKER_HTTP_PORT: "0",
      WORKER_POLL_INTERVAL_MS: "250",
      WORKER_SHUTDOWN_TIMEOUT_MS: "5000",
      WORKER_SCHEDULER: "off",
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  void exited.then(() => process.off("exit", killOnExit));

  const output: string[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const started = new Promise<void>((resolve) => {
    if (!child.stdout) return;
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line);
      if (line.includes('"msg":"worker started"')) resolve();
    });
  });
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      started,
      exited.then(() => {
        throw new Error(`the worker exited before it started:\n${stderr}\n${output.slice(-5).join("\n")}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the worker did not start within ${timeoutMs} ms:\n${stderr}`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const hard = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(hard);
    },
  };
}
