/**
 * The allow-list of skipped tests (`.ci/expected-skips.json`): each entry names a test file, a test
 * (exact `fullName`, `*` matching any run of characters), the CI pass where it may skip, and why. A
 * skip the list does not name fails CI: a missing tool must never turn into a quiet green run.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export const CiPass = z.enum(["system", "embedded"]);
export type CiPass = z.infer<typeof CiPass>;

export const ExpectedSkip = z.object({
  /** Where it may skip: the system PostgreSQL 15 pass, the embedded PostgreSQL 17 pass, or both. */
  passes: z.array(CiPass).min(1),
  /** The test file, relative to the repository root. */
  file: z.string().min(1),
  /** The test's full name (describe blocks joined by " > "); `*` matches anything. */
  test: z.string().min(1),
  /** When set, the skip note must contain this text (a skip for another reason is not this one). */
  note: z.string().min(1).optional(),
  /** Why this skip is expected: what the machine lacks by design, not a tool CI forgot. */
  reason: z.string().min(10),
});
export type ExpectedSkip = z.infer<typeof ExpectedSkip>;

export const ExpectedSkips = z.array(ExpectedSkip);

export function readExpectedSkips(path: string): ExpectedSkip[] {
  const parsed = ExpectedSkips.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`${path} is not a valid allow-list of skips: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** Whether `name` matches `pattern`, where `*` stands for any run of characters. */
export function matchesName(pattern: string, name: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "s").test(name);
}
