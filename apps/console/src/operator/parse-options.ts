import { CliError } from "./cli-error.ts";

/** A whole number from `min` to `max`, for options like --limit; names the option when it is not. */
export function parseWholeNumber(
  option: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new CliError(
      "invalid_argument",
      `${option} must be a whole number from ${min} to ${max} (got "${value}")`,
    );
  }
  return number;
}

/** Message ids given with --id (each a positive whole number). */
export function parseMessageIds(values: readonly string[]): number[] {
  const bad = values.filter((value) => !/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(Number(value)));
  if (bad.length > 0) {
    throw new CliError(
      "invalid_argument",
      `--id takes message ids (positive whole numbers); not: ${bad.join(", ")}`,
    );
  }
  return [...new Set(values.map(Number))];
}
