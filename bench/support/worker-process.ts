// The real worker (apps/worker/src/main.ts) in a child process, so its memory and CPU are its own.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const WORKER_DIR = fileURLToPath(new URL("../../apps/worker/", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface WorkerProcess {
  readonly pid: number;
  /** Base URL of its ops HTTP server (/readyz, /metrics). */
  readonly url: string;
  /** SIGTERM (graceful), SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface WorkerCommand {
  /** Node's own arguments before the script. Default `["--import", "tsx"]`, as `pnpm start:ts` runs it. */
  readonly nodeArgs?: readonly string[];
  /** The script, relative to apps/worker or absolute. Default `src/main.ts`. */
  readonly script?: string;
  /** Added to the worker's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `node --import tsx src/main.ts` in apps/worker (or another command) with exactly `env` (plus
 * PATH and a free WORKER_HTTP_PORT) and resolves once /readyz answers 200. Its stdout and stderr go to
 * `logFile`.
 */
export async function startWorkerProcess(
  env: Readonly<Record<string, string>>,
  logFile: string,
  command: WorkerCommand = {},
): Promise<WorkerProcess> {
  const port = await freePort();
  const log = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    const args = [...(command.nodeArgs ?? ["--import", "tsx"]), command.script ?? "src/main.ts"];
    child = spawn(process.execPath, args, {
      cwd: WORKER_DIR,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...env,
        ...command.env,
        WORKER_HTTP_HOST: "127.0.0.1",
        WORKER_HTTP_PORT: String(port),
      },
      stdio: ["ignore", log, log],
    });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the worker exited with ${child.exitCode} during start-up:\n${tail(logFile)}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the worker was not ready in ${READY_TIMEOUT_MS} ms:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    pid: child.pid ?? -1,
    url,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The last lines of a log file, for an error message (the file may be gone once the run is over). */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
