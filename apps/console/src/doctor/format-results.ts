import type { CheckResult } from "./check.ts";

const rank = { fail: 0, warn: 1, info: 2 } as const;
const label = { fail: "FAIL", warn: "WARN", info: "INFO" } as const;

/**
 * The lines of one result: `PASS <name>` (with the check's note after a colon) when nothing is
 * wrong, then one line per finding, `FAIL <name>: <what is wrong> — fix: <how>` /
 * `WARN <name>: <what> — fix: <how>` / `INFO <name>: <what>`.
 */
export function formatResult(result: CheckResult): string[] {
  const pass = result.note === undefined ? `PASS ${result.name}` : `PASS ${result.name}: ${result.note}`;
  // Failures first: they are what the reader must act on; information last.
  const ordered = [...result.findings].sort((a, b) => rank[a.severity] - rank[b.severity]);
  const lines = ordered.map((finding) => {
    const fix = finding.fix === undefined ? "" : ` — fix: ${finding.fix}`;
    return `${label[finding.severity]} ${result.name}: ${finding.problem}${fix}`;
  });
  return result.findings.every((finding) => finding.severity === "info") ? [pass, ...lines] : lines;
}

/** Counts by outcome; a check with warnings only counts as passed. */
export function summarize(results: readonly CheckResult[]): {
  readonly passed: number;
  readonly failed: number;
  readonly warned: number;
} {
  const failed = results.filter((result) => result.status === "fail").length;
  const warned = results.filter((result) => result.status === "warn").length;
  return { passed: results.length - failed, failed, warned };
}

/** The last line: `N passed, N failed`. */
export function formatSummary(results: readonly CheckResult[]): string {
  const { passed, failed } = summarize(results);
  return `${passed} passed, ${failed} failed`;
}
