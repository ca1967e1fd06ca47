import { type ExitCode, exitCodes } from "../doctor/exit-codes.ts";

/** Why an operator command stopped, as a stable code; each maps to one exit code. */
export type CliErrorCode =
  | "invalid_config"
  | "connection_failed"
  | "refused"
  | "invalid_argument"
  | "not_found"
  | "not_confirmed"
  | "declined"
  | "incomplete"
  | "database_error";

const exitCodeOf: Record<CliErrorCode, ExitCode> = {
  invalid_config: exitCodes.config,
  connection_failed: exitCodes.unavailable,
  refused: exitCodes.failed,
  invalid_argument: exitCodes.usage,
  not_found: exitCodes.failed,
  not_confirmed: exitCodes.usage,
  declined: exitCodes.failed,
  incomplete: exitCodes.failed,
  database_error: exitCodes.failed,
};

/** A failure the CLI reports as one message (stderr, or `{ ok: false, error }` with --json) and an exit code. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exitCode: ExitCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.code = code;
    this.exitCode = exitCodeOf[code];
  }
}

/**
 * A database error as the operator should read it: 42501 (not an operator / no grant) is refused,
 * 22023 names a bad argument, P0002 is not found; anything else keeps the server's message.
 */
export function fromDatabaseError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const { code, message } = error as { code?: string; message?: string };
  const text = message ?? String(error);
  switch (code) {
    case "42501":
      return new CliError(
        "refused",
        `refused by the database: ${text} (connect as a role with service_role rights, e.g. postgres)`,
        { cause: error },
      );
    case "22023":
      return new CliError("invalid_argument", text, { cause: error });
    case "P0002":
      return new CliError("not_found", text, { cause: error });
    case "42883":
      return new CliError(
        "database_error",
        `${text}: apply supabase/migrations/041_operator_console.sql (pnpm db:migrate)`,
        { cause: error },
      );
    default:
      return new CliError("database_error", code ? `${text} (SQLSTATE ${code})` : text, { cause: error });
  }
}
