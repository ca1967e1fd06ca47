/**
 * `pnpm --filter @balansity/ci run check-skips -- --pass system --reports DIR [--log FILE]
 * [--allow FILE]`: prints every skipped test of a CI pass with its reason, the skipped count and every
 * failed test with its error, and exits 1 when a skip is not on the allow-list (naming the test) or the
 * counts disagree with the log. (A failed test fails the pass through vitest's exit code, not here.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkSkips } from "./check-skips.ts";
import { CiPass, readExpectedSkips } from "./expected-skips.ts";
import { TestRunReport } from "./test-run-report.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const { values } = parseArgs({
  options: {
    pass: { type: "string" },
    reports: { type: "string" },
    log: { type: "string" },
    allow: { type: "string", default: join(repoRoot, ".ci/expected-skips.json") },
  },
});
const pass = CiPass.safeParse(values.pass);
if (!pass.success || !values.reports) {
  console.error("usage: check-skips --pass system|embedded --reports DIR [--log FILE] [--allow FILE]");
  process.exit(2);
}

const reports = readdirSync(values.reports)
  .filter((name) => name.endsWith(".json"))
  .map((name) => TestRunReport.parse(JSON.parse(readFileSync(join(values.reports as string, name), "utf8"))));
const result = checkSkips({
  pass: pass.data,
  repoRoot,
  reports,
  expected: readExpectedSkips(values.allow),
  ...(values.log ? { log: readFileSync(values.log, "utf8") } : {}),
});

for (const skip of result.skipped) {
  console.log(
    `[ci] ${pass.data}: skipped ${skip.file} > ${skip.name}: ${skip.reason ?? "NOT ON THE ALLOW-LIST"}`,
  );
}
console.log(
  `[ci] ${pass.data}: ${result.skipped.length} skipped test(s) in ${reports.length} package run(s)`,
);
// Failures are named last, where the tail of a long CI log still shows them.
for (const report of reports) {
  for (const failed of report.failedTests) {
    console.log(
      `[ci] ${pass.data}: FAILED ${relative(repoRoot, failed.file)} > ${failed.name}: ${failed.error}`,
    );
  }
}
for (const problem of result.problems) console.error(`[ci] ${problem}`);
if (result.problems.length > 0 || reports.length === 0) {
  if (reports.length === 0) console.error(`[ci] ${pass.data}: no test report in ${values.reports}`);
  process.exit(1);
}
