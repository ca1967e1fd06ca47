import type { CheckResult } from "./check.ts";

/**
 * The lines of one result: `PASS <name>` (with the check's note after a colon), or one line per
 * finding, `FAIL <name>: <what is wrong> — fix: <how>` / `WARN <name>: <what> — fix: <how>`.
 */
export function formatResult(result: CheckResult): string[] {
  if (result.findings.length === 0) {
    return [result.note === undefined ? `PASS ${result.name}` : `PASS ${result.name}: ${result.note}`];
  }
  // Failures first: they are what the reader must act on.
  const ordered = [...result.findings].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === "fail" ? -1 : 1,
  );
  return ordered.map((finding) => {
    const label = finding.severity === "fail" ? "FAIL" : "WARN";
    const fix = finding.fix === undefined ? "" : ` — fix: ${finding.fix}`;
    return `${label} ${result.name}: ${finding.problem}${fix}`;
  });
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
