import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { TestRunReport } from "../src/test-run-report.ts";

const fixture = resolve(import.meta.dirname, "fixtures/skipping");
const failingFixture = resolve(import.meta.dirname, "fixtures/failing");
const reporter = resolve(import.meta.dirname, "../src/skip-reporter.ts");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs vitest on a fixture project with the reporter; returns its exit code and the report. */
function runFixture(root: string): { status: number | null; stderr: string; report: TestRunReport } {
  dir = mkdtempSync(join(tmpdir(), "balansity-skip-report-"));
  const run = spawnSync(
    "pnpm",
    ["exec", "vitest", "run", "--root", root, "--reporter=default", `--reporter=${reporter}`],
    { encoding: "utf8", env: { ...process.env, BALANSITY_TEST_REPORT_DIR: dir } },
  );
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  const report = TestRunReport.parse(JSON.parse(readFileSync(join(dir, files[0] as string), "utf8")));
  return { status: run.status, stderr: run.stderr, report };
}

it("writes every skipped test of a real vitest run with its name and note", () => {
  const { status, stderr, report } = runFixture(fixture);
  expect(status, stderr).toBe(0);
  expect(report).toEqual({
    package: "@balansity/skipping-fixture",
    root: fixture,
    passed: 1,
    failed: 0,
    skipped: 2,
    skippedTests: [
      { file: join(fixture, "skips.test.ts"), name: "a fixture > skips by flag" },
      {
        file: join(fixture, "skips.test.ts"),
        name: "a fixture > skips with a note",
        note: "the tool is missing",
      },
    ],
    failedTests: [],
  });
});

it("names every failed test with its first error, and a file that fails to load", () => {
  const { status, report } = runFixture(failingFixture);
  expect(status).toBe(1);
  expect(report.passed).toBe(1);
  expect(report.failed).toBe(1);
  expect(report.failedTests).toEqual(
    expect.arrayContaining([
      {
        file: join(failingFixture, "fails.test.ts"),
        name: "a fixture > fails",
        error: expect.stringMatching(/^AssertionError: one is two: expected 1 to be 2/),
      },
      {
        file: join(failingFixture, "broken.test.ts"),
        name: "(the file)",
        error: "Error: cannot load this file",
      },
    ]),
  );
  expect(report.failedTests).toHaveLength(2);
});
