import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePostgresChoice, type StartedPostgres, startPostgres } from "./start-postgres.ts";

/** A PostgreSQL cluster in a temporary folder that `stop()` removes: for tests, benchmarks, codegen. */
export interface ThrowawayPostgres extends StartedPostgres {
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a fresh cluster (free port) in a new temporary folder, choosing binaries as the
 * devstack does (`DEVSTACK_POSTGRES`, `PG_BIN` from `env`).
 *
 * ### Examples
 * ```ts
 * const postgres = await startThrowawayPostgres({ prefix: "balansity-bench-" });
 * try { await installPlatform(postgres.cluster.adminUrl); } finally { await postgres.stop(); }
 * ```
 */
export async function startThrowawayPostgres(options: {
  /** Start of the temporary folder's name, e.g. `balansity-bench-`. */
  prefix: string;
  /** `fast` (fsync off, the default) for tests; `durable` to measure what a real server pays. */
  durability?: "durable" | "fast";
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<ThrowawayPostgres> {
  const { prefix, durability = "fast", env = process.env } = options;
  const root = mkdtempSync(join(tmpdir(), prefix));
  // The server runs as the postgres OS user when we are root; it must be able to enter this folder.
  chmodSync(root, 0o755);
  const remove = () => rmSync(root, { recursive: true, force: true });
  let started: StartedPostgres;
  try {
    started = await startPostgres({
      dataDir: join(root, "data"),
      logFile: join(root, "postgres.log"),
      port: 0,
      durability,
      choice: parsePostgresChoice(env.DEVSTACK_POSTGRES),
      pgBin: env.PG_BIN,
    });
  } catch (error) {
    remove();
    throw error;
  }
  return {
    ...started,
    async stop() {
      await started.cluster.stop();
      remove();
    },
  };
}
