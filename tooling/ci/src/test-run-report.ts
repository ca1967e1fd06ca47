/**
 * What one vitest run leaves for CI (one JSON file per package and pass): its counts, every skipped
 * test with the note it was skipped with, and every failed test with its first error. Written by
 * `skip-reporter.ts`, read by `check-skips.ts`.
 */
import { z } from "zod";

export const SkippedTest = z.object({
  /** The test file, absolute as vitest knows it. */
  file: z.string(),
  /** Describe blocks and test name joined by " > ", as vitest's `fullName`. */
  name: z.string(),
  /** The note of `context.skip(note)`, if any. */
  note: z.string().optional(),
});
export type SkippedTest = z.infer<typeof SkippedTest>;

export const FailedTest = z.object({
  file: z.string(),
  name: z.string(),
  /** The first error's message, as vitest reports it (the CI log's tail names the failure). */
  error: z.string(),
});
export type FailedTest = z.infer<typeof FailedTest>;

export const TestRunReport = z.object({
  /** The package's name (`@balansity/db`), as turbo prefixes its log lines. */
  package: z.string(),
  /** The vitest root (the package folder), absolute. */
  root: z.string(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  skippedTests: z.array(SkippedTest),
  failedTests: z.array(FailedTest),
});
export type TestRunReport = z.infer<typeof TestRunReport>;
