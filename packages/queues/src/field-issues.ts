import type * as z from "zod";

/** One problem with one field of a message or an argument list. */
export interface FieldIssue {
  /** Where, as a dotted path: `to`, `variables.report_url`, `properties.items[0]`; `""` for the whole value. */
  readonly path: string;
  /** What is wrong, phrased to follow the field name: `must be an email address`. */
  readonly message: string;
}

/**
 * Messages for the issues our schemas do not word themselves. Schema-level `error` options win over
 * these (zod's precedence), so `"to" must be an email address` stays as the catalog says it.
 */
export const readableIssueMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${withArticle(issue.expected)}`;
    case "too_big":
      return issue.origin === "string"
        ? `must be at most ${issue.maximum} characters`
        : `must be at most ${issue.maximum}`;
    case "too_small":
      if (issue.origin === "string") {
        return Number(issue.minimum) <= 1
          ? "must not be empty"
          : `must be at least ${issue.minimum} characters`;
      }
      return `must be at least ${issue.minimum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    default:
      return undefined;
  }
};

/** Flattens zod issues to field issues; `prefix` is prepended (e.g. `["variables"]`). */
export function toFieldIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldIssue[] {
  return issues.flatMap((issue): FieldIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: "is not a known field" }));
    }
    return [{ path: formatPath(path), message: issue.message }];
  });
}

/** `email_queue message: "to" must be an email address`. */
export function describeFieldIssue(subject: string, issue: FieldIssue): string {
  return issue.path === "" ? `${subject}: ${issue.message}` : `${subject}: "${issue.path}" ${issue.message}`;
}

/** `["variables", "items", 0]` → `variables.items[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

function withArticle(expected: string): string {
  if (expected === "int") return "an integer";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
