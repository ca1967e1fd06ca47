// A throwaway PostgreSQL cluster for one benchmark run: the devstack's (DEVSTACK_POSTGRES and PG_BIN choose
// the binaries, as for tests), plus its version, databases created on demand, and the postmaster's pid.
import {
  applyMigrations,
  installPlatform,
  startThrowawayPostgres as startDevstackThrowawayPostgres,
  withClient,
} from "@balansity/devstack";
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
  const started = await startDevstackThrowawayPostgres({ prefix: "balansity-bench-", durability });
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
    await started.stop();
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
    stop: () => started.stop(),
  };
}

export { withClient };
