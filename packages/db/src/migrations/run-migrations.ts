/**
 * The migration runner.
 *
 *   read files ─► ensure history table ─► read history ─► check ─► apply pending, one by one
 *
 * - read files: `NNN_name.sql`, sorted by number (see migration-files.ts).
 * - ensure history table: `supabase_migrations.schema_migrations`, the Supabase CLI's table, so
 *   our runner and `supabase db push` agree on what is applied (see migration-history.ts).
 * - check, before anything is applied: an applied file whose text changed stops the run
 *   (MigrationChangedError: migrations are immutable); a recorded version with no file is only a
 *   warning (it may come from another branch or from the CLI); a pending file holding `begin` /
 *   `commit` stops the run (MigrationFileError), because it would commit half of itself.
 * - apply, per pending file, on one connection:
 *     begin
 *     pg_advisory_xact_lock        -- a second runner waits here
 *     is it recorded by now?       -- yes: a concurrent runner applied it; compare and skip
 *     <the file, as one simple-protocol query: multi-statement files work, nothing is prepared>
 *     insert into schema_migrations
 *     commit
 *     reset all; reset role     -- the next file starts from the connection's own settings
 *   On an error: rollback (the file and its record vanish together) and MigrationError, naming the
 *   file, the failing statement and its line. The server's error `position` points into the file;
 *   when there is none (a constraint violation, a `raise` in a `do` block), the file is replayed
 *   statement by statement in a transaction that is rolled back, to find the one that fails.
 *
 * On a session connection (direct, or the session pooler) the whole run also holds a session
 * advisory lock, so two deploys never interleave: the second waits, says so, and then finds
 * everything applied. Through a transaction pooler (port 6543) a session lock cannot be held; runs
 * are then serialised per file only (each file is still applied once, in order), and one log line
 * says so. `planMigrations` (`--dry-run`) does the read and check steps without writing anything.
 */
import pg from "pg";
import { explainConnectionError } from "../connection-error.ts";
import type { DatabaseConfig } from "../database-config.ts";
import { loadDatabaseConfig } from "../load-database-config.ts";
import { toPoolConfig } from "../pool-config.ts";
import { MigrationChangedError, MigrationError, MigrationFileError } from "./migration-errors.ts";
import { type MigrationFile, readMigrationFiles } from "./migration-files.ts";
import {
  type AppliedMigration,
  ensureHistoryTable,
  lockMigrations,
  matchesFile,
  readApplied,
  readHistory,
  recordMigration,
} from "./migration-history.ts";
import { type MigrationLog, silentLog } from "./migration-log.ts";
import {
  findTransactionControl,
  indexOfPosition,
  lineAt,
  type SqlStatement,
  splitSqlStatements,
  statementAt,
} from "./sql-statements.ts";

/** Where to connect: a connection string (TLS and pooler settings as {@link loadDatabaseConfig} reads them) or a loaded config. */
export type MigrationTarget = { readonly connectionString: string } | { readonly config: DatabaseConfig };

export type RunMigrationsOptions = MigrationTarget & {
  /** The directory of `NNN_name.sql` files, usually {@link migrationsDirectory}. */
  readonly directory: string;
  /** Progress and warnings; silent when absent. */
  readonly log?: MigrationLog;
};

export interface RunMigrationsResult {
  /** Files this run applied, in order. */
  applied: string[];
  /** Files that were applied before (by an earlier run, a concurrent runner or the Supabase CLI). */
  alreadyApplied: string[];
}

/**
 * Applies the migration files not yet recorded in `supabase_migrations.schema_migrations`, each in
 * its own transaction together with its record, one runner at a time.
 *
 * ### Examples
 * ```ts
 * import { migrationsDirectory, runMigrations } from "@balansity/db";
 *
 * const { applied } = await runMigrations({
 *   connectionString: "postgresql://postgres@localhost:5432/postgres",
 *   directory: migrationsDirectory,
 *   log: console,
 * });
 * console.log(applied); // ["001_base_schema.sql", ...]
 * ```
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<RunMigrationsResult> {
  const log = options.log ?? silentLog;
  const files = await readMigrationFiles(options.directory, log);
  const { client, config } = await connect(options, log);
  try {
    if (config.pooler.mode === "session") await lockRun(client, log);
    else {
      log.info(
        "transaction pool mode: concurrent runs are serialised per file, not per run (deploy through a direct connection or the session pooler to hold one lock for the whole run)",
      );
    }
    await ensureHistoryTable(client);
    const { pending, alreadyApplied, newest } = checkFiles(files, await readHistory(client), options, log);

    const applied: string[] = [];
    for (const file of pending) {
      if (BigInt(file.version) < newest) {
        log.warn(
          `applying ${file.fileName} after newer migrations: check that it does not depend on their order`,
        );
      }
      if (await applyFile(client, file)) {
        applied.push(file.fileName);
        log.info(`applied ${file.fileName}`);
      } else {
        alreadyApplied.push(file.fileName);
        log.info(`${file.fileName} was applied meanwhile by another runner`);
      }
    }
    return { applied, alreadyApplied };
  } finally {
    // Ending the session also releases the run lock.
    await client.end();
  }
}

/** A file `planMigrations` would apply, with where each of its statements starts. */
export interface PendingMigration {
  readonly file: string;
  readonly statements: readonly { readonly line: number; readonly firstLine: string }[];
}

export interface MigrationPlan {
  /** Files a run would apply now, in order. */
  readonly pending: readonly PendingMigration[];
  /** Files already recorded as applied. */
  readonly alreadyApplied: readonly string[];
}

/**
 * What {@link runMigrations} would do, without writing anything (not even the history table): the
 * pending files and their statements' first lines. Fails as a run would on a changed applied file
 * or a file holding `begin`/`commit`.
 *
 * ### Examples
 * ```ts
 * import { migrationsDirectory, planMigrations } from "@balansity/db";
 *
 * const { pending } = await planMigrations({ connectionString: process.env.DATABASE_URL ?? "", directory: migrationsDirectory });
 * for (const migration of pending) console.log(migration.file, migration.statements.length);
 * ```
 */
export async function planMigrations(options: RunMigrationsOptions): Promise<MigrationPlan> {
  const log = options.log ?? silentLog;
  const files = await readMigrationFiles(options.directory, log);
  const { client } = await connect(options, log);
  try {
    const { rows } = await client.query<{ found: boolean }>(
      "select to_regclass('supabase_migrations.schema_migrations') is not null as found",
    );
    const history = rows[0]?.found ? await readHistory(client) : new Map();
    const { pending, alreadyApplied } = checkFiles(files, history, options, log);
    return {
      pending: pending.map((file) => ({
        file: file.fileName,
        statements: splitSqlStatements(file.content).map((statement) => ({
          line: statement.line,
          firstLine: statement.text.split("\n")[0] ?? "",
        })),
      })),
      alreadyApplied,
    };
  } finally {
    await client.end();
  }
}

/** One session on the target; adoption (../adopt) uses it too. */
export async function connect(
  options: MigrationTarget & { readonly log?: MigrationLog },
  log: MigrationLog,
): Promise<{ client: pg.Client; config: DatabaseConfig }> {
  const config =
    "config" in options ? options.config : loadDatabaseConfig({ DATABASE_URL: options.connectionString });
  const client = new pg.Client(toPoolConfig(config));
  // A dropped connection also fails the query in flight; this only keeps the event from ending the process.
  client.on("error", (error) => log.warn(`migration connection lost: ${error.message}`));
  await client.connect().catch((error: unknown) => {
    throw explainConnectionError(error, config);
  });
  return { client, config };
}

/** Holds the run lock for the session; says so when another run has it and we wait. Shared with adoption. */
export async function lockRun(client: pg.Client, log: MigrationLog): Promise<void> {
  const key = "hashtextextended('supabase_migrations.schema_migrations run', 0)";
  const { rows } = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(${key}) as locked`);
  if (rows[0]?.locked) return;
  log.info("another migration run is in progress on this database: waiting for it to finish");
  await client.query(`select pg_advisory_lock(${key})`);
}

/** Splits files into pending and applied; refuses changed applied files and files with begin/commit. */
function checkFiles(
  files: readonly MigrationFile[],
  history: ReadonlyMap<string, AppliedMigration>,
  options: RunMigrationsOptions,
  log: MigrationLog,
): { pending: MigrationFile[]; alreadyApplied: string[]; newest: bigint } {
  const local = new Set(files.map((file) => file.version));
  for (const [version, applied] of history) {
    if (!local.has(version)) {
      log.warn(
        `migration ${version}_${applied.name ?? ""}.sql is recorded as applied but has no file in ${options.directory}`,
      );
    }
  }
  const alreadyApplied: string[] = [];
  const pending: MigrationFile[] = [];
  for (const file of files) {
    const applied = history.get(file.version);
    if (applied === undefined) {
      pending.push(file);
      continue;
    }
    const matches = matchesFile(applied, file);
    if (matches === false) throw new MigrationChangedError(file.fileName);
    if (matches === "unknown")
      log.info(`${file.fileName} was recorded by the Supabase CLI: its text is not compared`);
    alreadyApplied.push(file.fileName);
  }
  for (const file of pending) {
    const control = findTransactionControl(splitSqlStatements(file.content));
    if (control !== undefined) {
      throw new MigrationFileError(
        file.fileName,
        `migration ${file.fileName} line ${control.line} has "${control.words.join(" ")}": remove begin/commit from the ` +
          "file, the runner already applies each file in one transaction",
      );
    }
  }
  const newest = [...history.keys()]
    .filter((version) => /^\d+$/.test(version))
    .reduce((max, version) => (BigInt(version) > max ? BigInt(version) : max), -1n);
  return { pending, alreadyApplied, newest };
}

/** Applies one file with its record; `false` when a concurrent runner got there first. */
async function applyFile(client: pg.Client, file: MigrationFile): Promise<boolean> {
  await client.query("begin");
  try {
    await lockMigrations(client);
    const applied = await readApplied(client, file.version);
    if (applied !== undefined) {
      if (matchesFile(applied, file) === false) throw new MigrationChangedError(file.fileName);
      await client.query("commit");
      return false;
    }
    try {
      await client.query(file.content);
    } catch (error) {
      await client.query("rollback");
      throw await describeFailure(client, file, error);
    }
    await recordMigration(client, file);
    await client.query("commit");
    // A file's session-level `set` (search_path, role) must not leak into the next file.
    await client.query("reset all; reset role");
    return true;
  } catch (error) {
    // Safe after a commit or rollback too: the server only warns that no transaction is open.
    await client.query("rollback").catch(() => {});
    throw error;
  }
}

/** Turns a server error from running a file into a MigrationError naming the statement and line. */
async function describeFailure(client: pg.Client, file: MigrationFile, error: unknown): Promise<unknown> {
  if (!(error instanceof pg.DatabaseError)) return error;
  const statements = splitSqlStatements(file.content);
  let statement: SqlStatement | undefined;
  let index: number | undefined;
  if (error.position !== undefined) {
    index = indexOfPosition(file.content, Number(error.position));
    statement = statementAt(statements, index);
  } else {
    statement = await replayToFailure(client, statements, error);
  }
  const line = index !== undefined ? lineAt(file.content, index) : statement?.line;
  const column = index !== undefined ? index - file.content.lastIndexOf("\n", index - 1) : undefined;
  return new MigrationError({
    file: file.fileName,
    statement: statement === undefined ? undefined : markPosition(statement, index),
    line,
    column,
    pgMessage: error.message,
    sqlState: error.code,
    detail: error.detail,
    hint: error.hint,
    where: error.where,
    cause: error,
  });
}

/**
 * Runs the statements one by one in a transaction that is rolled back, and returns the first that
 * fails with the same error; `undefined` if none does (the split and the server disagree).
 */
async function replayToFailure(
  client: pg.Client,
  statements: readonly SqlStatement[],
  original: pg.DatabaseError,
): Promise<SqlStatement | undefined> {
  try {
    await client.query("begin");
    await lockMigrations(client);
    for (const statement of statements) {
      try {
        await client.query(statement.text);
      } catch (error) {
        const same =
          error instanceof pg.DatabaseError &&
          error.code === original.code &&
          error.message === original.message;
        return same ? statement : undefined;
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await client.query("rollback").catch(() => {});
  }
}

/** The statement's text with a caret line under the error position, when it has one. */
function markPosition(statement: SqlStatement, index: number | undefined): string {
  if (index === undefined || index < statement.start || index > statement.end) return statement.text;
  const lines = statement.text.split("\n");
  let lineStart = statement.start;
  for (const [i, text] of lines.entries()) {
    if (index <= lineStart + text.length) {
      lines.splice(i + 1, 0, `${" ".repeat(index - lineStart)}^`);
      break;
    }
    lineStart += text.length + 1;
  }
  return lines.join("\n");
}
