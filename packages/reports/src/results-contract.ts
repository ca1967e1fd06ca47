import { z } from "zod";
import { ReportResultsError } from "./report-errors.ts";

// The shape of `public.assessments.results`. The app saves results on a checkup (any kind); when it
// saved none, the database scores the answers on completion where it has a scorer
// (public.score_assessment: the kinds of `checkupScales`). These schemas are the contract on the
// TypeScript side, checked before a report is rendered. A scale is 0-100, higher is better; `score`
// is the overall result and `level` its band.

/**
 * The kinds we score ourselves (040's public.score_assessment), and the scales (categories) their
 * results hold, in report order. Results of another kind have scales the app names.
 */
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

/** At most this many scales in the results of a kind we do not score (a page of the report). */
export const maxAppScales = 24;

/** Results the app saved for a kind we have no scorer for: the same shape, scales named by the app. */
export const appResultsSchema = z.object({
  score: percent,
  level: z.enum(resultLevels, { error: `must be one of ${resultLevels.join(", ")}` }),
  scales: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: "must be a scale name (a-z, 0-9, _)" }),
      percent,
      {
        error: "must be an object of scale scores",
      },
    )
    .refine((scales) => Object.keys(scales).length >= 1, { error: "must name at least one scale" })
    .refine((scales) => Object.keys(scales).length <= maxAppScales, {
      error: `must name at most ${maxAppScales} scales`,
    }),
});

/** Results of one kind, validated. */
export interface CheckupResults {
  readonly kind: string;
  readonly score: number;
  readonly level: ResultLevel;
  /** In the kind's scale order. */
  readonly scales: ReadonlyArray<{ readonly scale: string; readonly value: number }>;
}

export function isCheckupKind(kind: string): kind is CheckupKind {
  return Object.hasOwn(checkupScales, kind);
}

/** Whether the database scores this kind's answers (public.score_assessment) when the app saved no results. */
export function hasScorer(kind: string): kind is CheckupKind {
  return isCheckupKind(kind);
}

/** The band a 0-100 value falls in: below 40 low, below 70 moderate, else high (as the SQL scoring). */
export function levelOf(value: number): ResultLevel {
  return value < 40 ? "low" : value < 70 ? "moderate" : "high";
}

/**
 * Checks a checkup's `results` against the contract of its kind: the kind's scales for a kind we
 * score, else `appResultsSchema` (scales in the order the app saved them).
 * Throws `ReportResultsError` naming every field that does not fit (`results`, `results.scales.mood`, ...).
 *
 * ### Examples
 * ```ts
 * const results = parseCheckupResults("wellbeing", { score: 72, level: "high", scales: { energy: 64, sleep: 80, mood: 71 } });
 * results.scales; // [{ scale: "energy", value: 64 }, { scale: "sleep", value: 80 }, { scale: "mood", value: 71 }]
 * ```
 */
export function parseCheckupResults(kind: string, results: unknown): CheckupResults {
  if (results === null || results === undefined) {
    throw new ReportResultsError(`results: the ${kind} checkup has no results`, ["results"]);
  }
  const parsed = (isCheckupKind(kind) ? checkupResultsSchemas[kind] : appResultsSchema).safeParse(results);
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
  const order = isCheckupKind(kind) ? checkupScales[kind] : Object.keys(scales);
  return {
    kind,
    score: parsed.data.score,
    level: parsed.data.level,
    scales: order.map((scale) => ({ scale, value: scales[scale] as number })),
  };
}

/** Where a report's results came from: saved by the app, scored from the answers, or none at all. */
export type ReportResultsSource = "saved" | "scored" | "none";

/**
 * The results a report shows, by the rule of 045: what the app saved when it fits the contract; else
 * the scorer's results from the answers where the kind has a scorer (`score` is called only then,
 * and a scorer's results that do not fit still throw `ReportResultsError`); else none, and the report
 * says what it can without scores. `savedProblem` tells why saved results were not used. `results` is
 * the chosen value as stored (it fits the contract; `null` for none), what `ReportInput` takes.
 *
 * ### Examples
 * ```ts
 * const chosen = await chooseReportResults("nutrition", assessment.results, () => scoreInSql(kind, answers));
 * chosen.source; // "saved", or "none" when the app saved nothing valid (nutrition has no scorer)
 * ```
 */
export async function chooseReportResults(
  kind: string,
  saved: unknown,
  score: () => Promise<unknown>,
): Promise<{
  readonly source: ReportResultsSource;
  readonly results: unknown;
  readonly savedProblem?: string;
}> {
  let savedProblem: string | undefined;
  if (saved !== null && saved !== undefined) {
    try {
      parseCheckupResults(kind, saved);
      return { source: "saved", results: saved };
    } catch (error) {
      if (!(error instanceof ReportResultsError)) throw error;
      savedProblem = error.message;
    }
  }
  const problem = savedProblem === undefined ? {} : { savedProblem };
  if (!hasScorer(kind)) return { source: "none", results: null, ...problem };
  const scored = await score();
  parseCheckupResults(kind, scored);
  return { source: "scored", results: scored, ...problem };
}
