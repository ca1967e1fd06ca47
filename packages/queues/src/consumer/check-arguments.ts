import type { z } from "zod";
import { InvalidArgumentError } from "../errors.ts";
import { readableIssueMessages, toFieldIssues } from "../field-issues.ts";

/** Parses a primitive's arguments or throws {@link InvalidArgumentError} naming each bad one. */
export function checkArguments<S extends z.ZodType>(
  operation: string,
  schema: S,
  args: unknown,
): z.output<S> {
  // The compiled fast path first (see checkInput); readable messages only for what fails.
  const quick = schema.safeParse(args);
  if (quick.success) return quick.data;
  const result = schema.safeParse(args, { error: readableIssueMessages });
  if (!result.success) throw new InvalidArgumentError(operation, toFieldIssues(result.error.issues));
  return result.data;
}
