import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { TestRunReport } from "../src/test-run-report.ts";

const fixture = resolve(import.meta.dirname, "fixtures/skipping");
const reporter = resolve(import.meta.dirname, "../src/skip-reporter.ts");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("writes every skipped test of a real vitest run with its name and note", () => {
  dir = mkdtempSync(join(tmpdir(), "balansity-skip-report-"));
  const run = spawnSync(
    "pnpm",
    ["exec", "vitest", "run", "--root", fixture, "--reporter=default", `--reporter=${reporter}`],
    { encoding: "utf8", env: { ...process.env, BALANSITY_TEST_REPORT_DIR: dir } },
  );
  expect(run.status, run.stderr).toBe(0);
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  const report = TestRunReport.parse(JSON.parse(readFileSync(join(dir, files[0] as string), "utf8")));
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
  });
});
