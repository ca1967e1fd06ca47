import type { DatabaseEnv } from "@balansity/db";
import { exitCodes } from "../doctor/exit-codes.ts";
import { CliError } from "./cli-error.ts";
import type { PromptStreams } from "./confirm.ts";
import { type OperatorConnection, openOperatorConnection } from "./operator-connection.ts";
import type { ProgressStream } from "./progress-bar.ts";

/** What a command may touch: the environment (read once), its output streams, a terminal to ask on. */
export interface CliContext {
  readonly env: DatabaseEnv;
  /** Standard output, one line per call. */
  readonly out: (line: string) => void;
  /** Standard error, one line per call. */
  readonly err: (line: string) => void;
  /** Standard error as a stream, for the progress bar (drawn only on a terminal). */
  readonly progress: ProgressStream;
  readonly prompt: PromptStreams;
}

/** What a command produced: lines for people, a JSON document for scripts, and whether it all worked. */
export interface CommandOutput {
  readonly lines: readonly string[];
  readonly json: Record<string, unknown>;
  /** False when the command ran but did not do all it was asked (exit 1). */
  readonly complete?: boolean;
}

/**
 * Opens the connection, runs `work`, prints its output (`--json`: one document `{ "ok": …, … }`),
 * closes the connection and returns the exit code. A {@link CliError} is printed on stderr (and as
 * `{ "ok": false, "error": { code, message } }` with --json) and exits with its code.
 */
export async function runOperatorCommand(
  context: CliContext,
  options: { readonly json?: boolean | undefined },
  work: (db: OperatorConnection) => Promise<CommandOutput>,
  /** Checks the arguments before connecting, so a typo is reported without a database (exit 2). */
  check?: () => void,
): Promise<number> {
  const json = options.json === true;
  let db: OperatorConnection | undefined;
  try {
    check?.();
    db = await openOperatorConnection(context.env);
    const output = await work(db);
    const ok = output.complete !== false;
    if (json) context.out(JSON.stringify({ ok, ...output.json }, null, 2));
    else for (const line of output.lines) context.out(line);
    return ok ? exitCodes.ok : exitCodes.failed;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    context.err(error.message);
    if (json)
      context.out(
        JSON.stringify({ ok: false, error: { code: error.code, message: error.message } }, null, 2),
      );
    return error.exitCode;
  } finally {
    await db?.close();
  }
}
