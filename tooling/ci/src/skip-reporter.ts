/**
 * A vitest reporter for CI: beside the default reporter, it writes the run's counts, the name and note
 * of every skipped test and the name and first error of every failed one to
 * `$BALANSITY_TEST_REPORT_DIR/<package>-<pid>.json`, so that `.ci/run` can hold each skip against the
 * allow-list instead of trusting a count in a log, and name each failure at the end of its output
 * (where a truncated log still shows it). Does nothing when the variable is unset (a developer's run).
 *
 *   vitest run --reporter=default --reporter=<repo>/tooling/ci/src/skip-reporter.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Reporter, SerializedError, TestModule, Vitest } from "vitest/node";
import type { SkippedTest, TestRunReport } from "./test-run-report.ts";

export default class SkipReporter implements Reporter {
  #root = "";
  #package = "";
  readonly #dir = process.env.BALANSITY_TEST_REPORT_DIR;

  onInit(vitest: Vitest): void {
    this.#root = vitest.config.root;
    const manifest = JSON.parse(readFileSync(join(this.#root, "package.json"), "utf8")) as { name?: string };
    this.#package = manifest.name ?? basename(this.#root);
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    if (!this.#dir) return;
    const report: TestRunReport = {
      package: this.#package,
      root: this.#root,
      passed: 0,
      failed: 0,
      skipped: 0,
      skippedTests: [],
      failedTests: [],
    };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === "passed") report.passed += 1;
        else if (result.state === "failed") {
          report.failed += 1;
          const error = firstLine(result.errors[0]);
          report.failedTests.push({ file: module.moduleId, name: test.fullName, error });
        } else if (result.state === "skipped") {
          report.skipped += 1;
          const skipped: SkippedTest = { file: module.moduleId, name: test.fullName };
          if (result.note) skipped.note = result.note;
          report.skippedTests.push(skipped);
        }
      }
      // A file that fails to load, or a failing beforeAll, fails outside any test.
      for (const suite of [module, ...module.children.allSuites()]) {
        for (const error of suite.errors()) {
          const name = suite.type === "module" ? "(the file)" : suite.fullName;
          report.failedTests.push({ file: module.moduleId, name, error: firstLine(error) });
        }
      }
    }
    for (const error of unhandledErrors) {
      report.failedTests.push({ file: this.#root, name: "(unhandled error)", error: firstLine(error) });
    }
    mkdirSync(this.#dir, { recursive: true });
    writeFileSync(
      join(this.#dir, `${basename(this.#root)}-${process.pid}.json`),
      JSON.stringify(report, null, 2),
    );
  }
}

/** An error as one line of the CI log: its name and the first line of its message. */
function firstLine(error: SerializedError | undefined): string {
  if (!error) return "no error reported";
  return `${error.name ?? "Error"}: ${error.message}`.split("\n", 1)[0] ?? "";
}
