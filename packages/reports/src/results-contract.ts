import { z } from "zod";
import { ReportResultsError } from "./report-errors.ts";

// The shape of `public.assessments.results` per checkup kind. The database computes results when a
// checkup is completed (public.score_assessment in 040_reports.sql); these schemas are the same
// contract on the TypeScript side, checked before a report is rendered. A scale is 0-100, higher
// is better; `score` is the mean of the scales and `level` its band.

/** Every checkup kind with a report, and the scales (categories) its results hold, in report order. */
export const checkupScales = {
  wellbeing: ["energy", "sleep", "mood"],
  stress: ["calmness", "resilience", "recovery"],
  sleep: ["duration", "quality", "regularity"],
} as const;

export type CheckupKind = keyof typeof checkupScales;
export const checkupKinds = Object.keys(checkupScales) as readonly CheckupKind[];
export const resultLevels = ["low", "moderate", "high"] as const;
export type ResultLevel = (typeof resultLevels)[number];

const percent = z
  .number({ error: "must be a number from 0 to 100" })
  .int({ error: "must be a whole number" })
  .min(0, { error: "must be at least 0" })
  .max(100, { error: "must be at most 100" });

function resultsSchema<const S extends readonly string[]>(scales: S) {
  const shape = Object.fromEntries(scales.map((scale) => [scale, percent])) as {
    [K in S[number]]: typeof percent;
  };
  return z.object({
    score: percent,
    level: z.enum(resultLevels, { error: `must be one of ${resultLevels.join(", ")}` }),
    scales: z.object(shape, { error: "must be an object of scale scores" }),
  });
}

export const checkupResultsSchemas = {
  wellbeing: resultsSchema(checkupScales.wellbeing),
  stress: resultsSchema(checkupScales.stress),
  sleep: resultsSchema(checkupScales.sleep),
} as const;

/** Results of one kind, validated. */
export interface CheckupResults {
  readonly kind: CheckupKind;
  readonly score: number;
  readonly level: ResultLevel;
  /** In the kind's scale order. */
  readonly scales: ReadonlyArray<{ readonly scale: string; readonly value: number }>;
}

export function isCheckupKind(kind: string): kind is CheckupKind {
  return Object.hasOwn(checkupScales, kind);
}

/** The band a 0-100 value falls in: below 40 low, below 70 moderate, else high (as the SQL scoring). */
export function levelOf(value: number): ResultLevel {
  return value < 40 ? "low" : value < 70 ? "moderate" : "high";
}

/**
 * Checks a checkup's `results` against the contract of its kind.
 * Throws `ReportResultsError` naming every field that does not fit (`kind`, `results.scales.mood`, ...).
 *
 * ### Examples
 * ```ts
 * const results = parseCheckupResults("wellbeing", { score: 72, level: "high", scales: { energy: 64, sleep: 80, mood: 71 } });
 * results.scales; // [{ scale: "energy", value: 64 }, { scale: "sleep", value: 80 }, { scale: "mood", value: 71 }]
 * ```
 */
export function parseCheckupResults(kind: string, results: unknown): CheckupResults {
  if (!isCheckupKind(kind)) {
    throw new ReportResultsError(
      `kind "${kind}" has no report (expected one of ${checkupKinds.join(", ")})`,
      ["kind"],
    );
  }
  if (results === null || results === undefined) {
    throw new ReportResultsError(`results: the ${kind} checkup has no results`, ["results"]);
  }
  const parsed = checkupResultsSchemas[kind].safeParse(results);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: ["results", ...issue.path.map(String)].join("."),
      message: issue.message,
    }));
    throw new ReportResultsError(
      `results of the ${kind} checkup do not fit its contract: ${issues.map((i) => `${i.field} ${i.message}`).join("; ")}`,
      issues.map((issue) => issue.field),
    );
  }
  const scales = parsed.data.scales as Record<string, number>;
  return {
    kind,
    score: parsed.data.score,
    level: parsed.data.level,
    scales: checkupScales[kind].map((scale) => ({ scale, value: scales[scale] as number })),
  };
}
