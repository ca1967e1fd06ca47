import { listQueues, missingConsumerFunctions, type Queryable } from "@balansity/queues/consumer";
import type { Logger } from "pino";
import { retryWithBackoff } from "./retry-with-backoff.ts";

export interface WaitForDatabaseOptions {
  readonly db: Queryable;
  /** The queues the worker consumes: each must exist (the migrations have run). */
  readonly queues: readonly string[];
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Called with what is wrong while waiting (shown by /readyz), and with undefined once it works. */
  readonly onProblem: (problem: string | undefined) => void;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Waits until the database answers and holds the worker's queues and the functions its consumers
 * call, however it stands at start-up:
 * not running yet, an unknown database or role, migrations not applied. Logs what is wrong once per
 * try, backing off from `minDelayMs` to `maxDelayMs`. Resolves false when `signal` aborts first.
 */
export async function waitForDatabase(options: WaitForDatabaseOptions): Promise<boolean> {
  const { db, queues, logger, signal } = options;
  let failures = 0;
  const reached = await retryWithBackoff(
    async () => {
      const problem = await check(db, queues);
      options.onProblem(problem);
      if (problem !== undefined) throw new Error(problem);
      return true;
    },
    {
      signal,
      minDelayMs: options.minDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      onFailure: (error, retryInMs) => {
        failures += 1;
        const problem = error instanceof Error ? error.message : String(error);
        logger.warn({ problem, retry_in_ms: retryInMs }, "the worker cannot start its consumers yet");
      },
    },
  );
  if (reached && failures > 0)
    logger.info({ tries: failures + 1 }, "database reachable: starting the consumers");
  return reached === true;
}

async function check(db: Queryable, queues: readonly string[]): Promise<string | undefined> {
  let existing: Set<string>;
  let missingFunctions: string[];
  try {
    existing = new Set(await listQueues(db));
    missingFunctions = await missingConsumerFunctions(db);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    // invalid_schema_name, undefined_function, undefined_table: reachable, but not set up.
    if (code === "3F000" || code === "42883" || code === "42P01") {
      return `database: pgmq is missing — install it and apply the migrations (pnpm db:migrate): ${message}`;
    }
    return `database: ${message}`;
  }
  const missing = queues.filter((queue) => !existing.has(queue));
  if (missing.length > 0) {
    return `database: queue(s) ${missing.join(", ")} missing — apply the migrations (pnpm db:migrate)`;
  }
  if (missingFunctions.length > 0) {
    return `database: function(s) ${missingFunctions.join(", ")} missing — apply the migrations (pnpm db:migrate)`;
  }
  return undefined;
}
