/**
 * Runs the SMTP sink in a separate Node process (`node --import tsx smtp-sink-cli.ts`), so a test can
 * take SMTP away for real — kill the process and the port refuses connections — while the code under
 * test keeps running. The child is controlled over its HTTP view (`POST /failure-mode`, `GET /messages`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { type FailureMode, SmtpSinkError } from "./smtp-sink.ts";

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const STDERR_TAIL_CHARS = 4_000;

export interface SpawnSmtpSinkOptions {
  readonly host?: string | undefined;
  readonly smtpPort?: number | undefined;
  readonly httpPort?: number | undefined;
  readonly maxMessages?: number | undefined;
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  readonly failWith?: FailureMode | undefined;
  /** `--limit` (e.g. `20/10s`) and `--limit-code`: the sink plays a provider's sending limit. */
  readonly limit?: string | undefined;
  readonly limitCode?: number | undefined;
  /** How long to wait for the ready line before killing the child and rejecting. Default 20 000. */
  readonly readyTimeoutMs?: number | undefined;
}

export interface SmtpSinkProcess {
  readonly pid: number;
  readonly host: string;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Base URL of the child's HTTP view. */
  readonly url: string;
  /** Settles when the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGKILL: a crash) and resolves once the child has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (clean shutdown), SIGKILL if that takes over 10 s; resolves once the child has exited. */
  stop(): Promise<void>;
}

const readyLineSchema = z.object({
  event: z.literal("ready"),
  host: z.string(),
  smtpPort: z.int(),
  httpPort: z.int(),
  url: z.string(),
});

/**
 * Starts `smtp-sink-cli.ts` as a child process and resolves once it has printed its ready line.
 *
 * ### Examples
 * ```ts
 * const sink = await spawnSmtpSinkProcess();
 * await fetch(`${sink.url}/failure-mode`, { method: "POST", body: JSON.stringify({ kind: "permanent" }) });
 * await sink.kill(); // SMTP is down now: connecting to sink.smtpPort is refused
 * ```
 */
export async function spawnSmtpSinkProcess(options: SpawnSmtpSinkOptions = {}): Promise<SmtpSinkProcess> {
  const cliPath = fileURLToPath(new URL("./smtp-sink-cli.ts", import.meta.url));
  // An absolute URL, so the loader is found whatever the current directory is.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsxLoader, cliPath, ...cliArgs(options)], {
    stdio: ["ignore", "pipe", "pipe"],
  });

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // "close", not "exit": by then stderr has been read to the end and the ports are released.
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  // Never leave a sink behind when the test process goes away without stopping it.
  const killOnParentExit = () => child.kill("SIGKILL");
  process.once("exit", killOnParentExit);
  void exited.then(() => process.off("exit", killOnParentExit));

  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });

  try {
    const ready = await waitForReady(
      child,
      exited,
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      () => stderr,
    );
    const pid = child.pid;
    if (pid === undefined) throw new SmtpSinkError("STOPPED", "the SMTP sink process has no pid");
    const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    };
    return {
      pid,
      host: ready.host,
      smtpPort: ready.smtpPort,
      httpPort: ready.httpPort,
      url: ready.url,
      exited,
      kill,
      async stop() {
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        try {
          await kill("SIGTERM");
        } finally {
          clearTimeout(timer);
        }
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
}

function cliArgs(options: SpawnSmtpSinkOptions): string[] {
  const args: string[] = [];
  if (options.host !== undefined) args.push("--host", options.host);
  if (options.smtpPort !== undefined) args.push("--smtp-port", String(options.smtpPort));
  if (options.httpPort !== undefined) args.push("--http-port", String(options.httpPort));
  if (options.maxMessages !== undefined) args.push("--max-messages", String(options.maxMessages));
  if (options.auth !== undefined)
    args.push("--auth-user", options.auth.user, "--auth-pass", options.auth.pass);
  if (options.failWith !== undefined) args.push("--fail-with", JSON.stringify(options.failWith));
  if (options.limit !== undefined) args.push("--limit", options.limit);
  if (options.limitCode !== undefined) args.push("--limit-code", String(options.limitCode));
  return args;
}

/** Reads stdout until the ready line; keeps draining it afterwards so the child never blocks on a full pipe. */
function waitForReady(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  timeoutMs: number,
  stderrTail: () => string,
): Promise<z.infer<typeof readyLineSchema>> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error("the SMTP sink process has no stdout"));
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new SmtpSinkError(
              "WAIT_TIMEOUT",
              `the SMTP sink process did not print its ready line within ${timeoutMs} ms; stderr:\n${stderrTail()}`,
            ),
          ),
        ),
      timeoutMs,
    );
    createInterface({ input: stdout }).on("line", (line) => {
      const ready = readyLineSchema.safeParse(parseJson(line));
      if (ready.success) settle(() => resolve(ready.data));
    });
    void exited.then(({ code, signal }) =>
      settle(() =>
        reject(
          new SmtpSinkError(
            "STOPPED",
            `the SMTP sink process exited (code ${code}, signal ${signal}) before it was ready; stderr:\n${stderrTail()}`,
          ),
        ),
      ),
    );
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
