import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkSkips, skippedCountsInLog } from "../src/check-skips.ts";
import { type ExpectedSkip, readExpectedSkips } from "../src/expected-skips.ts";
import type { TestRunReport } from "../src/test-run-report.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const cli = resolve(import.meta.dirname, "../src/check-skips-cli.ts");

const secondsSkip: ExpectedSkip = {
  passes: ["system"],
  file: "packages/queues/test/sql-cron-jobs.test.ts",
  test: "scheduling with pg_cron > runs a job*",
  note: "has no seconds schedules",
  reason: "pg_cron 1.4 has no seconds schedules",
};

function report(
  pkg: string,
  dir: string,
  skipped: TestRunReport["skippedTests"],
  passed = 10,
): TestRunReport {
  return {
    package: pkg,
    root: join(repoRoot, dir),
    passed,
    failed: 0,
    skipped: skipped.length,
    skippedTests: skipped,
    failedTests: [],
  };
}

const queuesOnPgCron14 = report("@balansity/queues", "packages/queues", [
  {
    file: join(repoRoot, "packages/queues/test/sql-cron-jobs.test.ts"),
    name: "scheduling with pg_cron > runs a job in the test database (pg_cron 1.5+: seconds schedules)",
    note: "pg_cron 1.4-1 has no seconds schedules",
  },
]);
// What a run looks like when pgbouncer was not installed: its tests skip.
const dbWithoutPgbouncer = report("@balansity/db", "packages/db", [
  {
    file: join(repoRoot, "packages/db/test/pgbouncer.test.ts"),
    name: "PgBouncer > skipped: /usr/sbin/pgbouncer is not installed",
  },
]);

const log = (lines: Record<string, string>) =>
  Object.entries(lines)
    .map(([pkg, tests]) => `${pkg}:test: \x1b[2m      Tests \x1b[22m ${tests}`)
    .join("\n");

describe("checkSkips", () => {
  it("passes a skip on the allow-list, with its reason", () => {
    const result = checkSkips({
      pass: "system",
      repoRoot,
      reports: [queuesOnPgCron14],
      expected: [secondsSkip],
    });
    expect(result.problems).toEqual([]);
    expect(result.skipped.map((skip) => skip.reason)).toEqual(["pg_cron 1.4 has no seconds schedules"]);
  });

  it("fails on a skip the list does not name, naming the test (a tool removed)", () => {
    const result = checkSkips({
      pass: "system",
      repoRoot,
      reports: [queuesOnPgCron14, dbWithoutPgbouncer],
      expected: [secondsSkip],
    });
    expect(result.problems).toEqual([
      "unexpected skip in the system pass: packages/db/test/pgbouncer.test.ts > PgBouncer > skipped: /usr/sbin/pgbouncer is not installed",
    ]);
  });

  it("fails on an allowed test skipped in another pass, or for another reason", () => {
    expect(
      checkSkips({ pass: "embedded", repoRoot, reports: [queuesOnPgCron14], expected: [secondsSkip] })
        .problems,
    ).toHaveLength(1);
    const otherReason = report("@balansity/queues", "packages/queues", [
      {
        ...(queuesOnPgCron14.skippedTests[0] as TestRunReport["skippedTests"][number]),
        note: "the cron database is gone",
      },
    ]);
    expect(
      checkSkips({ pass: "system", repoRoot, reports: [otherReason], expected: [secondsSkip] }).problems,
    ).toEqual([
      "unexpected skip in the system pass: packages/queues/test/sql-cron-jobs.test.ts > scheduling with pg_cron > runs a job in the test database (pg_cron 1.5+: seconds schedules) (the cron database is gone)",
    ]);
  });

  it("fails when the log's skipped count disagrees with the reports, or a package wrote none", () => {
    const agreeing = log({ "@balansity/queues": "15 passed | 1 skipped (16)" });
    expect(skippedCountsInLog(agreeing)).toEqual(new Map([["@balansity/queues", 1]]));
    const base = { pass: "system", repoRoot, expected: [secondsSkip] } as const;
    expect(checkSkips({ ...base, reports: [queuesOnPgCron14], log: agreeing }).problems).toEqual([]);
    expect(
      checkSkips({
        ...base,
        reports: [queuesOnPgCron14],
        log: log({ "@balansity/queues": "14 passed | 2 skipped (16)", "@balansity/db": "40 passed (40)" }),
      }).problems,
    ).toEqual([
      "@balansity/queues: the log counts 2 skipped, the report 1",
      "@balansity/db: the log shows its tests but no report was written (reporter missing)",
    ]);
  });
});

describe("the allow-list", () => {
  const expected = readExpectedSkips(join(repoRoot, ".ci/expected-skips.json"));

  it("names only test files that exist and tests written in them", () => {
    for (const entry of expected) {
      expect(existsSync(join(repoRoot, entry.file)), entry.file).toBe(true);
      const source = readFileSync(join(repoRoot, entry.file), "utf8");
      for (const part of entry.test.split(" > ")) {
        const literal = part.split("*")[0] as string;
        expect(source.includes(literal), `${entry.file}: ${part}`).toBe(true);
      }
    }
  });

  it("allows no skip in the system pass but the pg_cron 1.4 one", () => {
    expect(expected.filter((entry) => entry.passes.includes("system"))).toHaveLength(1);
  });
});

describe("check-skips (the command .ci/run calls)", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function runCli(reports: readonly TestRunReport[], logText: string) {
    dir = mkdtempSync(join(tmpdir(), "balansity-check-skips-"));
    mkdirSync(join(dir, "reports"));
    reports.forEach((each, index) => {
      writeFileSync(join(dir as string, "reports", `${index}.json`), JSON.stringify(each));
    });
    writeFileSync(join(dir, "pass.log"), logText);
    return spawnSync(
      "pnpm",
      [
        "exec",
        "tsx",
        cli,
        "--pass",
        "system",
        "--reports",
        join(dir, "reports"),
        "--log",
        join(dir, "pass.log"),
      ],
      { encoding: "utf8" },
    );
  }

  it("prints each skip with its reason and the count, and exits 0 when all are allowed", () => {
    const run = runCli([queuesOnPgCron14], log({ "@balansity/queues": "15 passed | 1 skipped (16)" }));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "skipped packages/queues/test/sql-cron-jobs.test.ts > scheduling with pg_cron > runs a job in the test database (pg_cron 1.5+: seconds schedules): Debian's pg_cron 1.4",
    );
    expect(run.stdout).toContain("[ci] system: 1 skipped test(s) in 1 package run(s)");
  });

  it("exits 1 naming the test when a tool is gone and its tests skipped", () => {
    const run = runCli(
      [queuesOnPgCron14, dbWithoutPgbouncer],
      log({
        "@balansity/queues": "15 passed | 1 skipped (16)",
        "@balansity/db": "10 passed | 1 skipped (11)",
      }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      "packages/db/test/pgbouncer.test.ts > PgBouncer > skipped: /usr/sbin/pgbouncer is not installed: NOT ON THE ALLOW-LIST",
    );
    expect(run.stderr).toContain("unexpected skip in the system pass: packages/db/test/pgbouncer.test.ts");
  });

  it("names each failed test with its error after the skips, without failing the skip check", () => {
    const failing: TestRunReport = {
      ...queuesOnPgCron14,
      failed: 1,
      failedTests: [
        {
          file: join(repoRoot, "packages/queues/test/send.test.ts"),
          name: "send > names the field",
          error: "AssertionError: expected 'a' to be 'b'",
        },
      ],
    };
    const run = runCli([failing], log({ "@balansity/queues": "14 passed | 1 failed | 1 skipped (16)" }));
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines.at(-1)).toBe(
      "[ci] system: FAILED packages/queues/test/send.test.ts > send > names the field: AssertionError: expected 'a' to be 'b'",
    );
  });

  it("exits 1 when no package wrote a report", () => {
    const run = runCli([], log({ "@balansity/queues": "15 passed | 1 skipped (16)" }));
    expect(run.status).toBe(1);
  });
});
