/**
 * A vitest reporter for CI: beside the default reporter, it writes the run's counts and the name and
 * note of every skipped test to `$BALANSITY_TEST_REPORT_DIR/<package>-<pid>.json`, so that `.ci/run`
 * can hold each skip against the allow-list instead of trusting a count in a log. Does nothing when the
 * variable is unset (a developer's run).
 *
 *   vitest run --reporter=default --reporter=<repo>/tooling/ci/src/skip-reporter.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Reporter, TestModule, Vitest } from "vitest/node";
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

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (!this.#dir) return;
    const report: TestRunReport = {
      package: this.#package,
      root: this.#root,
      passed: 0,
      failed: 0,
      skipped: 0,
      skippedTests: [],
    };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === "passed") report.passed += 1;
        else if (result.state === "failed") report.failed += 1;
        else if (result.state === "skipped") {
          report.skipped += 1;
          const skipped: SkippedTest = { file: module.moduleId, name: test.fullName };
          if (result.note) skipped.note = result.note;
          report.skippedTests.push(skipped);
        }
      }
    }
    mkdirSync(this.#dir, { recursive: true });
    writeFileSync(
      join(this.#dir, `${basename(this.#root)}-${process.pid}.json`),
      JSON.stringify(report, null, 2),
    );
  }
}
