// A throwaway PostgreSQL cluster for one benchmark run: started through the devstack (DEVSTACK_POSTGRES
// and PG_BIN choose the binaries, as for tests), databases created on demand, removed at the end.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, installPlatform, parsePostgresChoice, startPostgres } from "@balansity/devstack";
import pg from "pg";

export interface ThrowawayPostgres {
  /** `PostgreSQL 15.x (system)`. */
  readonly description: string;
  readonly serverVersion: string;
  readonly durability: "durable" | "fast";
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Creates a database with the platform objects (roles, auth, pgmq) and every migration applied. */
  createAppDatabase(name: string): Promise<{ url: string; pgmqExtension: boolean }>;
  /** The postmaster's process id (its backends are its children: see treeCpuMeter). */
  readonly serverPid: number;
  stop(): Promise<void>;
}

/**
 * Starts a fresh cluster in a temporary folder. `durable` keeps fsync and synchronous_commit on (as on
 * Supabase); `fast` turns them off (as the test cluster does).
 *
 * ### Examples
 * ```ts
 * const postgres = await startThrowawayPostgres("durable");
 * try {
 *   const url = await postgres.createDatabase("bench_graphile");
 * } finally {
 *   await postgres.stop();
 * }
 * ```
 */
export async function startThrowawayPostgres(durability: "durable" | "fast"): Promise<ThrowawayPostgres> {
  const root = mkdtempSync(join(tmpdir(), "balansity-bench-"));
  // The server runs as the postgres OS user when started as root: it must be able to enter this folder.
  chmodSync(root, 0o755);
  const started = await startPostgres({
    dataDir: join(root, "data"),
    logFile: join(root, "postgres.log"),
    port: 0,
    durability,
    choice: parsePostgresChoice(process.env.DEVSTACK_POSTGRES),
    pgBin: process.env.PG_BIN,
  });
  const { cluster } = started;
  const urlOf = (database: string) => {
    const url = new URL(cluster.adminUrl);
    url.pathname = `/${database}`;
    return url.toString();
  };
  let serverVersion = "?";
  try {
    serverVersion = await withClient(cluster.adminUrl, async (client) => {
      const { rows } = await client.query<{ server_version: string }>("show server_version");
      return rows[0]?.server_version ?? "?";
    });
  } catch (error) {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const createDatabase = async (name: string) => {
    await withClient(cluster.adminUrl, (client) =>
      client.query(`create database ${pg.escapeIdentifier(name)}`),
    );
    return urlOf(name);
  };

  return {
    description: `PostgreSQL ${serverVersion} (${started.flavor}, durability ${durability})`,
    serverVersion,
    durability,
    createDatabase,
    async createAppDatabase(name) {
      const url = await createDatabase(name);
      const pgmqExtension = await installPlatform(url);
      await applyMigrations(url);
      return { url, pgmqExtension };
    },
    serverPid: cluster.pid,
    async stop() {
      await cluster.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
