import type { z } from "zod";
import { InvalidArgumentError } from "../errors.ts";
import { readableIssueMessages, toFieldIssues } from "../field-issues.ts";

/** Parses a primitive's arguments or throws {@link InvalidArgumentError} naming each bad one. */
export function checkArguments<S extends z.ZodType>(
  operation: string,
  schema: S,
  args: unknown,
): z.output<S> {
  const result = schema.safeParse(args, { error: readableIssueMessages });
  if (!result.success) throw new InvalidArgumentError(operation, toFieldIssues(result.error.issues));
  return result.data;
}
