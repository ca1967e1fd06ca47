import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type pg from "pg";
import type { DatabaseConfig } from "./database-config.ts";

/**
 * Translates a {@link DatabaseConfig} into node-postgres pool options. Pure: useful to inspect
 * what {@link createPool} will do, or to hand to another pg-based library.
 *
 * TLS by mode:
 * - `disable`: `ssl: false`.
 * - `verify-full`: `rejectUnauthorized: true`, `servername` = host (not for an IP address), `ca` if given.
 * - `verify-ca` and `require`: `rejectUnauthorized: true`, `ca` if given, host name not checked.
 * - `no-verify`: `rejectUnauthorized: false` (insecure; the one explicit opt-out).
 *
 * `statement_timeout` and `application_name` travel as start-up parameters, so they hold from the
 * first query. Queries are never given a `name`, so node-postgres never prepares statements, which
 * keeps the pool safe behind a transaction-mode pooler.
 *
 * ### Examples
 * ```ts
 * import pg from "pg";
 * import { loadDatabaseConfig, toPoolConfig } from "@balansity/db";
 *
 * const options = toPoolConfig(loadDatabaseConfig(process.env));
 * const client = new pg.Client(options); // a single connection with the same settings
 * ```
 */
export function toPoolConfig(config: DatabaseConfig): pg.PoolConfig {
  const options: pg.PoolConfig = {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    ssl: sslOptions(config),
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: config.applicationName,
    // Cloud load balancers drop idle TCP connections silently; keepalives notice.
    keepAlive: true,
  };
  if (config.password !== undefined) options.password = config.password;
  if (config.statementTimeoutMs !== undefined) options.statement_timeout = config.statementTimeoutMs;
  return options;
}

function sslOptions(config: DatabaseConfig): false | ConnectionOptions {
  const { mode, rootCert } = config.ssl;
  const ca = rootCert === undefined ? {} : { ca: rootCert };
  switch (mode) {
    case "disable":
      return false;
    case "no-verify":
      return { rejectUnauthorized: false };
    case "require":
    case "verify-ca":
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case "verify-full":
      return {
        ...ca,
        rejectUnauthorized: true,
        ...(isIP(config.host) === 0 ? { servername: config.host } : {}),
      };
  }
}
