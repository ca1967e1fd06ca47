import {
  ConfigError,
  createPool,
  type DatabaseConfig,
  type DatabaseEnv,
  describeDatabaseConfig,
  loadDatabaseConfig,
} from "@balansity/db";
import { doctorChecks } from "../checks/index.ts";
import type { Check, CheckResult } from "./check.ts";
import { exitCodes } from "./exit-codes.ts";
import { formatResult, formatSummary, summarize } from "./format-results.ts";
import { runChecks } from "./run-checks.ts";

export interface DoctorCommandOptions {
  /** Where DATABASE_URL / DATABASE_* come from (read once). */
  readonly env: DatabaseEnv;
  /** Print one JSON document instead of lines. */
  readonly json: boolean;
  readonly checks?: readonly Check[];
  /** Standard output, one line per call. */
  readonly out: (line: string) => void;
  /** Standard error, one line (or block) per call. */
  readonly err: (line: string) => void;
}

interface ServerInfo {
  user: string;
  database: string;
  version: string;
}

/**
 * `doctor`: connects to the configured database, runs every check and prints the results; returns
 * the exit code (0 all passed, 1 something failed or no connection, 78 invalid configuration).
 * Output shows the connection only through describeDatabaseConfig, never a password.
 */
export async function runDoctorCommand(options: DoctorCommandOptions): Promise<number> {
  let config: DatabaseConfig;
  try {
    config = loadDatabaseConfig(options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // ConfigError messages list every problem and never contain the password.
    options.err(error.message);
    if (options.json) {
      options.out(JSON.stringify({ ok: false, error: { code: error.code, issues: error.issues } }, null, 2));
    }
    return exitCodes.config;
  }

  const redact = redactor(config.password);
  const out = (line: string) => options.out(redact(line));
  const database = describeDatabaseConfig(config);
  if (!options.json) out(`doctor: ${database}`);

  const pool = createPool(config);
  // An idle connection dying mid-run surfaces as a failed query; do not crash on the event.
  pool.on("error", () => {});
  try {
    let server: ServerInfo;
    try {
      const { rows } = await pool.query<ServerInfo>(
        `select current_user::text as user, pg_catalog.current_database()::text as database,
                pg_catalog.current_setting('server_version') as version`,
      );
      if (rows[0] === undefined) throw new Error("the server returned no row");
      server = rows[0];
    } catch (error) {
      const problem = `cannot connect to ${database}: ${error instanceof Error ? error.message : String(error)}`;
      const fix =
        "check that the server is running and reachable, and DATABASE_URL (or DATABASE_HOST, DATABASE_USER, DATABASE_PASSWORD, DATABASE_SSL...) point at it";
      if (options.json) {
        out(
          JSON.stringify(
            { ok: false, database, error: { code: "connection_failed", problem, fix } },
            null,
            2,
          ),
        );
      } else {
        out(`FAIL connection: ${problem} — fix: ${fix}`);
        out("0 passed, 1 failed");
      }
      return exitCodes.failed;
    }

    const results = await runChecks(pool, options.checks ?? doctorChecks);
    const counts = summarize(results);
    if (options.json) {
      out(JSON.stringify({ ok: counts.failed === 0, database, server, ...counts, checks: results }, null, 2));
    } else {
      out(`connected as ${server.user} to database ${server.database} (PostgreSQL ${server.version})`);
      for (const result of results) for (const line of formatResult(result)) out(line);
      out(formatSummary(results));
    }
    return exitCode(results);
  } finally {
    await pool.end();
  }
}

function exitCode(results: readonly CheckResult[]): number {
  return results.some((result) => result.status === "fail") ? exitCodes.failed : exitCodes.ok;
}

/**
 * Belt and braces: the output is built from catalog data and server messages, none of which holds
 * the password; should one ever echo it, it is masked. Very short passwords are not masked (they
 * would mask ordinary words); describeDatabaseConfig never shows them anyway.
 */
function redactor(password: string | undefined): (line: string) => string {
  if (password === undefined || password.length < 6) return (line) => line;
  return (line) => line.replaceAll(password, "[redacted]");
}
