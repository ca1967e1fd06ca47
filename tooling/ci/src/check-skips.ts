/**
 * Holds one CI pass's skipped tests against the allow-list, and the reporters' counts against the
 * counts vitest printed in the log (a package whose report is missing ran without the reporter, and
 * its skips would go unseen).
 */
import { relative } from "node:path";
import { type CiPass, type ExpectedSkip, matchesName } from "./expected-skips.ts";
import type { TestRunReport } from "./test-run-report.ts";

export interface CheckedSkip {
  readonly file: string;
  readonly name: string;
  readonly note: string | undefined;
  /** The allow-list's reason, or undefined when the skip is not on the list. */
  readonly reason: string | undefined;
}

export interface SkipCheck {
  readonly skipped: readonly CheckedSkip[];
  /** Every reason this pass fails; empty when it passes. */
  readonly problems: readonly string[];
}

/** Per package, the skipped count of vitest's "Tests … skipped" summary lines in a turbo log. */
export function skippedCountsInLog(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes in a captured terminal log
  const plain = log.replace(/\x1b\[[0-9;]*m/g, "");
  for (const line of plain.split("\n")) {
    const match = /^(\S+?):test:\s+Tests\s+(.*)$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const skipped = /(\d+) skipped/.exec(match[2]);
    counts.set(match[1], (counts.get(match[1]) ?? 0) + Number(skipped?.[1] ?? 0));
  }
  return counts;
}

export function checkSkips(options: {
  readonly pass: CiPass;
  readonly repoRoot: string;
  readonly reports: readonly TestRunReport[];
  readonly expected: readonly ExpectedSkip[];
  /** The pass's turbo log; when given, its counts must agree with the reports. */
  readonly log?: string;
}): SkipCheck {
  const problems: string[] = [];
  const skipped: CheckedSkip[] = [];
  for (const report of options.reports) {
    for (const test of report.skippedTests) {
      const file = relative(options.repoRoot, test.file);
      const entry = options.expected.find(
        (each) =>
          each.passes.includes(options.pass) &&
          each.file === file &&
          matchesName(each.test, test.name) &&
          (each.note === undefined || (test.note ?? "").includes(each.note)),
      );
      skipped.push({ file, name: test.name, note: test.note, reason: entry?.reason });
      if (!entry) {
        problems.push(
          `unexpected skip in the ${options.pass} pass: ${file} > ${test.name}${test.note ? ` (${test.note})` : ""}`,
        );
      }
    }
  }
  if (options.log !== undefined) {
    const logged = skippedCountsInLog(options.log);
    const reported = new Map<string, number>();
    for (const report of options.reports) {
      reported.set(report.package, (reported.get(report.package) ?? 0) + report.skipped);
    }
    for (const [pkg, count] of logged) {
      const listed = reported.get(pkg);
      if (listed === undefined)
        problems.push(`${pkg}: the log shows its tests but no report was written (reporter missing)`);
      else if (listed !== count)
        problems.push(`${pkg}: the log counts ${count} skipped, the report ${listed}`);
    }
    for (const pkg of reported.keys()) {
      if (!logged.has(pkg)) problems.push(`${pkg}: a report but no "Tests" summary line in the log`);
    }
  }
  return { skipped, problems };
}
