import type pg from "pg";

/**
 * What a check runs its queries on: a pool, a client, or a client inside a transaction (the tests
 * break things in a transaction, run one check, and roll back).
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/**
 * One thing a check found. A `fail` breaks the system and always says how to fix it; a `warn` is
 * worth knowing but not fatal (the fallback scheduler in use, dead letters waiting); an `info` is
 * what the reader may want to know and need not act on (objects in the database that are not ours).
 */
export type Finding =
  | { readonly severity: "fail"; readonly problem: string; readonly fix: string }
  | { readonly severity: "warn"; readonly problem: string; readonly fix?: string }
  | { readonly severity: "info"; readonly problem: string; readonly fix?: undefined };

/** What a check returns: its findings (none = pass) and a short note on what it saw. */
export interface CheckReport {
  readonly findings: readonly Finding[];
  /** Shown on the PASS line, e.g. which pgmq is installed. */
  readonly note?: string;
}

/** One doctor check: a name for the output, and a function that looks at the database. */
export interface Check {
  /** kebab-case, stable: printed as `PASS <name>` and used by scripts reading `--json`. */
  readonly name: string;
  /** What it verifies, in one sentence. */
  readonly description: string;
  run(db: Queryable): Promise<CheckReport>;
}

export type CheckStatus = "pass" | "warn" | "fail";

/** A check's outcome, as printed and as `--json` gives it. */
export interface CheckResult {
  readonly name: string;
  readonly description: string;
  readonly status: CheckStatus;
  readonly note?: string;
  readonly findings: readonly Finding[];
  readonly durationMs: number;
}

export function fail(problem: string, fix: string): Finding {
  return { severity: "fail", problem, fix };
}

export function warn(problem: string, fix?: string): Finding {
  return fix === undefined ? { severity: "warn", problem } : { severity: "warn", problem, fix };
}

export function info(problem: string): Finding {
  return { severity: "info", problem };
}

/** A report with the note only when there is one (exactOptionalPropertyTypes). */
export function report(findings: readonly Finding[], note?: string): CheckReport {
  return note === undefined ? { findings } : { findings, note };
}

/** The worst severity among the findings (an info leaves a check passed). */
export function statusOf(findings: readonly Finding[]): CheckStatus {
  if (findings.some((finding) => finding.severity === "fail")) return "fail";
  if (findings.some((finding) => finding.severity === "warn")) return "warn";
  return "pass";
}
