import { describe, expect, it } from "vitest";
import { checkupKinds, checkupScales, parseCheckupResults, ReportResultsError } from "../src/index.ts";

function failure(kind: string, results: unknown): ReportResultsError {
  try {
    parseCheckupResults(kind, results);
  } catch (error) {
    if (error instanceof ReportResultsError) return error;
    throw error;
  }
  throw new Error("expected the results to be refused");
}

describe("the results contract", () => {
  it("accepts the seeded wellbeing results and keeps the kind's scale order", () => {
    const results = parseCheckupResults("wellbeing", {
      score: 72,
      level: "moderate",
      scales: { mood: 71, energy: 64, sleep: 80 },
    });
    expect(results).toEqual({
      kind: "wellbeing",
      score: 72,
      level: "moderate",
      scales: [
        { scale: "energy", value: 64 },
        { scale: "sleep", value: 80 },
        { scale: "mood", value: 71 },
      ],
    });
  });

  it.each(checkupKinds)("accepts complete %s results", (kind) => {
    const scales = Object.fromEntries(checkupScales[kind].map((scale, index) => [scale, 10 * (index + 1)]));
    expect(parseCheckupResults(kind, { score: 20, level: "low", scales }).scales).toHaveLength(3);
  });

  it("names a missing scale as results.scales.<scale>", () => {
    const error = failure("wellbeing", { score: 72, level: "high", scales: { energy: 64, sleep: 80 } });
    expect(error.code).toBe("report_results_invalid");
    expect(error.fields).toEqual(["results.scales.mood"]);
    expect(error.message).toContain("results.scales.mood");
  });

  it("names every field that is wrong at once", () => {
    const error = failure("stress", {
      score: 101,
      level: "extreme",
      scales: { calmness: 50.5, resilience: -1, recovery: "70" },
    });
    expect(error.fields).toEqual([
      "results.score",
      "results.level",
      "results.scales.calmness",
      "results.scales.resilience",
      "results.scales.recovery",
    ]);
  });

  it("refuses a checkup without results, naming results", () => {
    expect(failure("sleep", null).fields).toEqual(["results"]);
  });

  it("refuses a kind without a report, naming kind", () => {
    const error = failure("nutrition", { score: 1 });
    expect(error.fields).toEqual(["kind"]);
    expect(error.message).toContain('kind "nutrition"');
  });
});
