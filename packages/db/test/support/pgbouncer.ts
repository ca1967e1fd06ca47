/**
 * Debian's PgBouncer in front of a test cluster, on a free port, with its configuration in a
 * temporary folder: `transaction` pool mode behaves like Supabase's pooler on port 6543 (a server
 * connection per transaction: no session state, no LISTEN, no prepared statements across
 * transactions), `session` like its port 5432.
 *
 * PgBouncer refuses to run as root: as root it runs as the `postgres` OS user, like the server.
 * Authentication is `trust` (loopback only, like the test cluster); no password exists anywhere.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../devstack/src/postgres/free-port.ts";
import { serverUser } from "../../../devstack/src/postgres/os-user.ts";

export const PGBOUNCER = "/usr/sbin/pgbouncer";

export interface PgBouncer {
  readonly mode: "transaction" | "session";
  readonly port: number;
  /** The same connection string, pointed at the pooler. */
  url(directUrl: string): string;
  stop(): Promise<void>;
}

/** Why the pooler tests cannot run here, or undefined when they can. */
export function pgbouncerUnavailable(): string | undefined {
  return existsSync(PGBOUNCER)
    ? undefined
    : `${PGBOUNCER} is not installed (apt-get install pgbouncer; .ci/run installs it)`;
}

export async function startPgBouncer(options: {
  readonly mode: "transaction" | "session";
  /** The PostgreSQL server behind it. */
  readonly serverHost: string;
  readonly serverPort: number;
}): Promise<PgBouncer> {
  const dir = mkdtempSync(join(tmpdir(), `balansity-pgbouncer-${options.mode}-`));
  chmodSync(dir, 0o777);
  const port = await freePort("127.0.0.1");
  const logFile = join(dir, "pgbouncer.log");
  writeFileSync(join(dir, "users.txt"), '"postgres" ""\n');
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${options.serverHost} port=${options.serverPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(dir, "users.txt")}`,
      `pool_mode = ${options.mode}`,
      "default_pool_size = 20",
      "max_client_conn = 500",
      // Start-up parameters pg may send that PgBouncer cannot hand to a shared server connection.
      "ignore_startup_parameters = extra_float_digits,statement_timeout,options",
      `logfile = ${logFile}`,
      "log_connections = 0",
      "log_disconnections = 0",
      "",
    ].join("\n"),
  );
  const user = serverUser();
  const child = spawn(PGBOUNCER, [join(dir, "pgbouncer.ini")], {
    stdio: ["ignore", "ignore", "pipe"],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  try {
    await waitForPort(port, child, () => `${stderr}${readLog(logFile)}`);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    mode: options.mode,
    port,
    url(directUrl) {
      const url = new URL(directUrl);
      url.port = String(port);
      return url.toString();
    },
    async stop() {
      process.off("exit", killOnExit);
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (status ${child.exitCode}):\n${output()}`);
    if (await canConnect(port)) return;
    if (Date.now() > deadline)
      throw new Error(`pgbouncer did not listen on ${port} within 15 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGINT"); // PgBouncer: SIGINT = safe shutdown
  });
}
