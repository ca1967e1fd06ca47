import type * as z from "zod";
import { InvalidArgumentError } from "../errors.ts";
import { checkInput } from "../validate-input.ts";

/** Parses a primitive's arguments or throws {@link InvalidArgumentError} naming each bad one. */
export function checkArguments<S extends z.ZodType>(
  operation: string,
  schema: S,
  args: unknown,
): z.output<S> {
  const checked = checkInput(schema, args);
  if (!checked.ok) throw new InvalidArgumentError(operation, checked.fields);
  return checked.value;
}
