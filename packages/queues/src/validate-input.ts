import type * as z from "zod";
import { InvalidMessageError } from "./errors.ts";
import { type FieldIssue, readableIssueMessages, toFieldIssues } from "./field-issues.ts";

/** Parses `input` with `schema`, or returns every problem as field issues. */
export function checkInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
):
  | { readonly ok: true; readonly value: z.output<S> }
  | { readonly ok: false; readonly fields: FieldIssue[] } {
  // Without parse parameters zod takes its compiled fast path (3-4x quicker); the readable messages
  // are only needed for input that fails, so that is parsed again with them.
  const quick = schema.safeParse(input);
  if (quick.success) return { ok: true, value: quick.data };
  const result = schema.safeParse(input, { error: readableIssueMessages });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, fields: toFieldIssues(result.error.issues) };
}

/** Parses `input` with `schema`; throws {@link InvalidMessageError} naming every bad field. */
export function validateInput<S extends z.ZodType>(subject: string, schema: S, input: unknown): z.output<S> {
  const checked = checkInput(schema, input);
  if (!checked.ok) throw new InvalidMessageError(subject, checked.fields);
  return checked.value;
}
