import pg from "pg";
import type { DatabaseConfig } from "./database-config.ts";
import { toPoolConfig } from "./pool-config.ts";

/**
 * Opens a node-postgres pool for a configuration (TLS, pool size, timeouts and application name
 * from {@link toPoolConfig}). Connections are made lazily, on the first query.
 *
 * The pool emits `error` when an idle connection dies (a pooler restart, a failover): attach a
 * listener that logs it, or Node ends the process on the unhandled event.
 *
 * ### Examples
 * ```ts
 * import { createPool, loadDatabaseConfig } from "@balansity/db";
 *
 * const pool = createPool(loadDatabaseConfig(process.env));
 * pool.on("error", (error) => logger.warn({ err: error }, "idle database connection lost"));
 * const { rows } = await pool.query("select 1 as ok");
 * await pool.end();
 * ```
 */
export function createPool(config: DatabaseConfig): pg.Pool {
  return new pg.Pool(toPoolConfig(config));
}
