import { type RunningCluster, startCluster } from "./postgres/cluster.ts";
import { findPostgresBinaries, type PostgresChoice } from "./postgres/find-binaries.ts";

export interface PostgresStartOptions {
  readonly dataDir: string;
  readonly logFile: string;
  readonly port: number;
  readonly durability: "durable" | "fast";
  /** `DEVSTACK_POSTGRES`: auto (default), system or embedded. */
  readonly choice: PostgresChoice;
  /** `PG_BIN`: a folder of PostgreSQL binaries to use instead of looking. */
  readonly pgBin: string | undefined;
}

export interface StartedPostgres {
  readonly cluster: RunningCluster;
  readonly flavor: "pg_bin" | "system" | "embedded";
  readonly binDir: string;
}

/** The one database pg_cron lives in (as on Supabase, where it is `postgres`). */
export const CRON_DATABASE = "postgres";

/** Chooses binaries and starts the cluster; pg_cron is preloaded when the binaries have it. */
export async function startPostgres(options: PostgresStartOptions): Promise<StartedPostgres> {
  const binaries = findPostgresBinaries(options.choice, options.pgBin);
  const cluster = await startCluster({
    binaries,
    dataDir: options.dataDir,
    logFile: options.logFile,
    host: "127.0.0.1",
    port: options.port,
    durability: options.durability,
    cronDatabase: CRON_DATABASE,
  });
  return { cluster, flavor: binaries.flavor, binDir: binaries.binDir };
}

export function parsePostgresChoice(value: string | undefined): PostgresChoice {
  if (value === undefined || value === "" || value === "auto") return "auto";
  if (value === "system" || value === "embedded") return value;
  throw new Error(`DEVSTACK_POSTGRES must be auto, system or embedded (got "${value}")`);
}

/** The one line that says which PostgreSQL runs and whether pg_cron is on. */
export function describePostgres(started: StartedPostgres, pgmqExtension: boolean): string {
  const { cluster } = started;
  return [
    `PostgreSQL ${cluster.majorVersion} (${started.flavor}: ${started.binDir}) on ${cluster.host}:${cluster.port}`,
    `data ${cluster.dataDir}`,
    `pg_cron ${cluster.pgCron ? `on (database ${CRON_DATABASE})` : "off (the worker's scheduler runs the jobs)"}`,
    `pgmq ${pgmqExtension ? "extension" : "compatible SQL (pgmq 1.5 API)"}`,
  ].join(", ");
}
