import { describe, expect, it } from "vitest";
import {
  checkupKinds,
  checkupScales,
  chooseReportResults,
  parseCheckupResults,
  ReportResultsError,
} from "../src/index.ts";

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

  it("accepts the results the app saved for a kind we do not score, scales in the app's order", () => {
    const results = parseCheckupResults("nutrition", {
      score: 64,
      level: "moderate",
      scales: { variety: 57, hydration: 71 },
    });
    expect(results.scales).toEqual([
      { scale: "variety", value: 57 },
      { scale: "hydration", value: 71 },
    ]);
  });

  it("names what does not fit in the app's results of a kind we do not score", () => {
    const error = failure("nutrition", { score: 1, level: "low", scales: { "Bad Name": 5, ok: 101 } });
    expect(error.fields).toContain("results.scales.Bad Name");
    expect(error.fields).toContain("results.scales.ok");
    expect(failure("nutrition", { score: 1, level: "low", scales: {} }).fields).toEqual(["results.scales"]);
  });
});

describe("chooseReportResults", () => {
  const wellbeing = { score: 50, level: "moderate", scales: { energy: 88, sleep: 50, mood: 13 } };
  const never = async () => {
    throw new Error("the scorer must not be asked");
  };

  it("takes what the app saved when it fits, without scoring", async () => {
    const saved = { ...wellbeing, score: 90 };
    expect(await chooseReportResults("wellbeing", saved, never)).toEqual({ source: "saved", results: saved });
  });

  it("scores where the kind has a scorer and nothing valid was saved, saying why", async () => {
    const chosen = await chooseReportResults("wellbeing", { score: 500 }, async () => wellbeing);
    expect(chosen).toMatchObject({ source: "scored", results: wellbeing });
    expect(chosen.savedProblem).toContain("results.score");
    expect(await chooseReportResults("wellbeing", null, async () => wellbeing)).toEqual({
      source: "scored",
      results: wellbeing,
    });
  });

  it("chooses no results for a kind without a scorer and nothing valid saved", async () => {
    expect(await chooseReportResults("nutrition", null, never)).toEqual({ source: "none", results: null });
    expect(await chooseReportResults("nutrition", { score: "high" }, never)).toMatchObject({
      source: "none",
      results: null,
    });
  });

  it("still refuses scored results that do not fit, naming the field", async () => {
    await expect(
      chooseReportResults("stress", null, async () => ({
        score: 50,
        level: "moderate",
        scales: { calmness: 1 },
      })),
    ).rejects.toThrow("results.scales.resilience");
  });
});
