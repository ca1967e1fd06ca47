import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { hasExtension, type PostgresBinaries } from "./find-binaries.ts";
import { freePort } from "./free-port.ts";
import { chownTree, type ServerUser, serverUser } from "./os-user.ts";
import { reachableBinaries } from "./reachable-binaries.ts";
import { reachableDataDir } from "./reachable-data-dir.ts";

const run = promisify(execFile);

export interface ClusterOptions {
  readonly binaries: PostgresBinaries;
  /**
   * Kept between runs in dev (data persists), fresh per run in tests. As root, when the `postgres` OS
   * user cannot reach it, the cluster is kept in /var/tmp instead (see reachableDataDir).
   */
  readonly dataDir: string;
  /** Where the server's own log goes (kept out of the console). */
  readonly logFile: string;
  readonly host: string;
  /** Preferred port; another free one is taken when it is busy. 0 = any. */
  readonly port: number;
  /** Tests trade durability for speed (fsync off). */
  readonly durability: "durable" | "fast";
  /** The database pg_cron lives in when it is preloaded. */
  readonly cronDatabase: string;
}

export interface RunningCluster {
  readonly host: string;
  readonly port: number;
  readonly majorVersion: number;
  /** Superuser connection string to the `postgres` database (trust auth on loopback: no password). */
  readonly adminUrl: string;
  readonly pgCron: boolean;
  /** Where the cluster's files are: the requested folder, or where the server user can reach it. */
  readonly dataDir: string;
  /** True when initdb ran in this start (a new, empty cluster). */
  readonly created: boolean;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts PostgreSQL on the given binaries, creating the cluster first when the data folder is empty. */
export async function startCluster(requested: ClusterOptions): Promise<RunningCluster> {
  const user = serverUser();
  const options = {
    ...requested,
    binaries: reachableBinaries(requested.binaries, user),
    dataDir: reachableDataDir(requested.dataDir, user),
  };
  const created = !existsSync(join(options.dataDir, "PG_VERSION"));
  mkdirSync(dirname(options.logFile), { recursive: true });
  if (created) await initCluster(options, user);
  else await stopLeftoverServer(options.dataDir);

  const pgCron = hasExtension(options.binaries, "pg_cron");
  const port = await freePort(options.host, options.port);
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: options.host,
    unix_socket_directories: "",
    max_connections: "300",
    timezone: "UTC",
    log_timezone: "UTC",
    max_worker_processes: "32",
    ...(options.durability === "fast"
      ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }
      : {}),
    ...(pgCron
      ? {
          shared_preload_libraries: "pg_cron",
          "cron.database_name": options.cronDatabase,
          // Background workers run jobs without a libpq connection back to the server (no auth setup).
          "cron.use_background_workers": "on",
          "cron.timezone": "UTC",
        }
      : {}),
  };
  const args = ["-D", options.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(join(options.binaries.binDir, "postgres"), args, {
    cwd: options.dataDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);

  const adminUrl = `postgres://postgres@${urlHost(options.host)}:${port}/postgres`;
  await waitUntilAccepting(adminUrl, child, options.logFile);
  const majorVersion = Number(readFileSync(join(options.dataDir, "PG_VERSION"), "utf8").trim());
  return {
    host: options.host,
    port,
    majorVersion,
    adminUrl,
    pgCron,
    dataDir: options.dataDir,
    created,
    pid: child.pid ?? -1,
    stop: () => stopServer(child),
  };
}

async function initCluster(options: ClusterOptions, user: ServerUser | undefined): Promise<void> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (user) chownTree(options.dataDir, user);
  const args = [
    "-D",
    options.dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
  ];
  try {
    await run(join(options.binaries.binDir, "initdb"), args, {
      cwd: options.dataDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`initdb failed for ${options.dataDir}: ${stderr.trim() || String(error)}`);
  }
}

/** A dev cluster whose previous owner was killed may still be running: stop it before reusing the folder. */
async function stopLeftoverServer(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || !isAlive(pid)) return;
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) on ${dataDir} did not stop`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilAccepting(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  for (;;) {
    if (exited) {
      throw new Error(`PostgreSQL exited during start-up; its log is ${logFile}:\n${tail(logFile)}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept connections in 60 s (${logFile})`);
      void error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Fast shutdown: SIGINT ends sessions and stops cleanly. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGINT");
  });
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
