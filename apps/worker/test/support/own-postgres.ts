import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePostgresChoice, startPostgres } from "@balansity/devstack";

export type Postgres = Awaited<ReturnType<typeof startPostgres>>;

/**
 * A PostgreSQL cluster of a test file's own, for tests that stop, kill or start the server late:
 * doing that to the shared test cluster would take the other files' databases away. The same
 * server choice as the test run (system with pg_cron, or embedded).
 *
 * ### Examples
 * ```ts
 * const cluster = ownPostgres("restart");
 * let postgres = await cluster.start(0);
 * await postgres.cluster.stop();
 * postgres = await cluster.start(postgres.cluster.port); // same data, same port
 * cluster.remove();
 * ```
 */
export function ownPostgres(name: string, options: { durability?: "durable" | "fast" } = {}) {
  const root = mkdtempSync(join(tmpdir(), `balansity-pg-${name}-`));
  // The server runs as the postgres OS user (when we are root), which must be able to enter this folder.
  chmodSync(root, 0o755);
  return {
    /** Starts (or starts again) the cluster on `port` (0: any free port), creating it the first time. */
    start(port: number): Promise<Postgres> {
      return startPostgres({
        dataDir: join(root, "data"),
        logFile: join(root, "postgres.log"),
        port,
        durability: options.durability ?? "fast",
        choice: parsePostgresChoice(process.env.DEVSTACK_POSTGRES),
        pgBin: process.env.PG_BIN,
      });
    },
    /** Deletes the cluster's files (stop the server first). */
    remove(): void {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
