import { describe, expect, it } from "vitest";
import type { Check, CheckResult } from "../src/doctor/check.ts";
import { fail, info, statusOf, warn } from "../src/doctor/check.ts";
import { formatResult, formatSummary } from "../src/doctor/format-results.ts";
import { runChecks } from "../src/doctor/run-checks.ts";

const noDatabase = {
  query: () => Promise.reject(new Error("no database in this test")),
};

function result(partial: Partial<CheckResult> & Pick<CheckResult, "name" | "status">): CheckResult {
  return { description: "", findings: [], durationMs: 0, ...partial };
}

describe("doctor output", () => {
  it("prints PASS with the check's note", () => {
    expect(formatResult(result({ name: "queues", status: "pass", note: "4 queues" }))).toEqual([
      "PASS queues: 4 queues",
    ]);
    expect(formatResult(result({ name: "queues", status: "pass" }))).toEqual(["PASS queues"]);
  });

  it("prints one line per finding, failures first, each FAIL with its fix", () => {
    const lines = formatResult(
      result({
        name: "cron-jobs",
        status: "fail",
        findings: [warn("job x is disabled"), fail("job y is missing", "pnpm db:migrate")],
      }),
    );
    expect(lines).toEqual([
      "FAIL cron-jobs: job y is missing — fix: pnpm db:migrate",
      "WARN cron-jobs: job x is disabled",
    ]);
  });

  it("prints PASS, then INFO lines, for a check with information only; an INFO never fails or warns", () => {
    const findings = [info("not ours, left alone: 1 tables: public.courses")];
    expect(statusOf(findings)).toBe("pass");
    expect(statusOf([...findings, warn("w")])).toBe("warn");
    expect(
      formatResult(result({ name: "schema-state", status: "pass", note: "17 tables", findings })),
    ).toEqual([
      "PASS schema-state: 17 tables",
      "INFO schema-state: not ours, left alone: 1 tables: public.courses",
    ]);
    expect(
      formatResult(result({ name: "x", status: "fail", findings: [...findings, fail("f", "do y")] })),
    ).toEqual(["FAIL x: f — fix: do y", "INFO x: not ours, left alone: 1 tables: public.courses"]);
  });

  it("counts a check with warnings only as passed", () => {
    expect(
      formatSummary([
        result({ name: "a", status: "pass" }),
        result({ name: "b", status: "warn", findings: [warn("w")] }),
        result({ name: "c", status: "fail", findings: [fail("f", "x")] }),
      ]),
    ).toBe("2 passed, 1 failed");
  });
});

describe("runChecks", () => {
  it("turns a check that throws into a FAIL and still runs the next one", async () => {
    const throwing: Check = {
      name: "broken",
      description: "",
      run: (db) => db.query("select 1").then(() => ({ findings: [] })),
    };
    const passing: Check = { name: "fine", description: "", run: async () => ({ findings: [], note: "ok" }) };
    const [first, second] = await runChecks(noDatabase, [throwing, passing]);
    expect(first).toMatchObject({
      name: "broken",
      status: "fail",
      findings: [{ severity: "fail", problem: "the check could not run: no database in this test" }],
    });
    expect(second).toMatchObject({ name: "fine", status: "pass", note: "ok" });
  });
});
