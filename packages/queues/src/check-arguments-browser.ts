import { InvalidMessageError } from "./errors.ts";
import type { FieldIssue } from "./field-issues.ts";

// The frontend's calls check their few arguments without zod, so that an app using only them does
// not bundle zod (see bench/RESULTS.md, "frontend-bundle-cost"). The messages match the catalog's.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `value` is a UUID (any version, either case), as PostgreSQL's uuid type accepts it. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** Throws InvalidMessageError for `subject` when `issues` is not empty: nothing is sent. */
export function refuseIssues(subject: string, issues: readonly (FieldIssue | undefined)[]): void {
  const found = issues.filter((issue): issue is FieldIssue => issue !== undefined);
  if (found.length > 0) throw new InvalidMessageError(subject, found);
}
