import {
  ConfigError,
  type DatabaseEnv,
  describeDatabaseConfig,
  explainConnectionError,
  loadDatabaseConfig,
  toPoolConfig,
} from "@balansity/db";
import pg from "pg";
import { CliError, fromDatabaseError } from "./cli-error.ts";

/** One connection for one CLI command, acting with service_role's rights where the login role may. */
export interface OperatorConnection {
  /** `user@host:port/database (...)`, never the password. */
  readonly database: string;
  /** Runs one statement; a database error becomes a {@link CliError}. */
  query<R extends object>(text: string, values?: readonly unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

// Refused logins and unknown databases are a wrong setting, not an outage.
const WRONG_SETTING = new Set(["28P01", "28000", "3D000"]);

/**
 * Connects with the configuration in `env` (DATABASE_URL, or DATABASE_HOST…, read by
 * `loadDatabaseConfig`) and, when the login role may, runs each statement as service_role: the
 * console functions then run as they do for a server with the service key. A postgres or superuser login
 * that cannot switch is accepted by the functions as it is.
 *
 * @throws {CliError} `invalid_config` (exit 78) listing every problem with the settings, or naming
 *   DATABASE_URL when the server refuses its user, password or database; `connection_failed`
 *   (exit 69) when the server cannot be reached.
 */
export async function openOperatorConnection(env: DatabaseEnv): Promise<OperatorConnection> {
  let config: ReturnType<typeof loadDatabaseConfig>;
  try {
    config = loadDatabaseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError("invalid_config", error.message, { cause: error });
    throw error;
  }
  const database = describeDatabaseConfig(config);
  const client = new pg.Client(toPoolConfig(config));
  // A connection dropped while idle between statements surfaces on the next query.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    const sqlState = (error as { code?: unknown }).code;
    if (typeof sqlState === "string" && WRONG_SETTING.has(sqlState)) {
      throw new CliError(
        "invalid_config",
        `DATABASE_URL is wrong: the server refused ${database}: ${(error as Error).message} ` +
          "(check the user, password and database name in DATABASE_URL, or DATABASE_USER, DATABASE_PASSWORD, DATABASE_NAME)",
        { cause: error },
      );
    }
    const explained = explainConnectionError(error, config);
    throw new CliError(
      "connection_failed",
      `cannot reach ${database}: ${explained.message} ` +
        "(is the server running, and do DATABASE_URL or DATABASE_HOST and DATABASE_PORT point at it?)",
      { cause: error },
    );
  }

  const run = async <R extends object>(text: string, values?: readonly unknown[]): Promise<R[]> => {
    try {
      return (await client.query<R>(text, values as unknown[] | undefined)).rows;
    } catch (error) {
      throw fromDatabaseError(error);
    }
  };

  const [membership] = await run<{ service_role: boolean }>(
    `select exists (select from pg_catalog.pg_roles where rolname = 'service_role')
              and pg_catalog.pg_has_role(current_user, 'service_role', 'member') as service_role`,
  );
  // The role is switched per statement, in its own transaction (set local): behind a
  // transaction-mode pooler a session-level SET would stay on a server connection other clients use.
  const query = async <R extends object>(text: string, values?: readonly unknown[]): Promise<R[]> => {
    if (!membership?.service_role) return run<R>(text, values);
    await run("begin");
    try {
      await run("select pg_catalog.set_config('role', 'service_role', true)");
      const rows = await run<R>(text, values);
      await run("commit");
      return rows;
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    }
  };

  return {
    database,
    query,
    async close() {
      await client.end().catch(() => {});
    },
  };
}
