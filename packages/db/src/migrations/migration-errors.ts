/**
 * A migration file failed on the server. Its transaction was rolled back: nothing from the file is
 * applied and it is not recorded, so fixing the file and running again is safe.
 */
export class MigrationError extends Error {
  readonly code = "migration_failed";
  /** The file name, e.g. `031_setup_queues.sql`. */
  readonly file: string;
  /** The failing statement, when it could be found. */
  readonly statement: string | undefined;
  /** 1-based line in the file: where the server pointed, else where the failing statement starts. */
  readonly line: number | undefined;
  /** The server's message, e.g. `relation "public.missing" does not exist`. */
  readonly pgMessage: string;
  /** The SQLSTATE code, e.g. `42P01`. */
  readonly sqlState: string | undefined;

  constructor(details: {
    readonly file: string;
    readonly statement: string | undefined;
    readonly line: number | undefined;
    readonly column: number | undefined;
    readonly pgMessage: string;
    readonly sqlState: string | undefined;
    readonly detail?: string | undefined;
    readonly hint?: string | undefined;
    readonly where?: string | undefined;
    readonly cause: unknown;
  }) {
    const { file, statement, line, column, pgMessage, sqlState } = details;
    const at =
      line === undefined ? "" : ` at line ${line}${column === undefined ? "" : `, column ${column}`}`;
    const lines = [
      `migration ${file} failed${at}: ${pgMessage}${sqlState === undefined ? "" : ` (SQLSTATE ${sqlState})`}`,
      ...(details.detail ? [`  detail: ${details.detail}`] : []),
      ...(details.hint ? [`  hint: ${details.hint}`] : []),
      ...(details.where ? [`  where: ${details.where}`] : []),
      ...(statement === undefined
        ? ["  statement: could not be located (the server gave no position)"]
        : ["  statement:", ...statement.split("\n").map((text) => `    ${text}`)]),
      `the transaction was rolled back: nothing from ${file} was applied; fix the file and run again`,
    ];
    super(lines.join("\n"), { cause: details.cause });
    this.name = "MigrationError";
    this.file = file;
    this.statement = statement;
    this.line = line;
    this.pgMessage = pgMessage;
    this.sqlState = sqlState;
  }
}

/** An applied migration's file no longer matches what was applied. */
export class MigrationChangedError extends Error {
  readonly code = "migration_changed";
  /** The file name, e.g. `001_base_schema.sql`. */
  readonly file: string;

  constructor(file: string) {
    super(
      `migration ${file} was changed after it was applied: migrations are immutable once applied: ` +
        `add a new file for the change and restore ${file} to what was applied (see git history)`,
    );
    this.name = "MigrationChangedError";
    this.file = file;
  }
}

/** The migrations directory or a file in it cannot be run as it is; nothing was applied. */
export class MigrationFileError extends Error {
  readonly code = "invalid_migration_file";
  /** The file (or directory) at fault. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(message);
    this.name = "MigrationFileError";
    this.file = file;
  }
}
