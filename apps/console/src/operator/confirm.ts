import { createInterface } from "node:readline/promises";
import { CliError } from "./cli-error.ts";

/** The terminal a confirmation is asked on. */
export interface PromptStreams {
  readonly input: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  readonly output: NodeJS.WritableStream;
}

/**
 * Asks `question [y/N]` and resolves when the answer is yes. Without a terminal to ask on (a pipe,
 * CI) it refuses instead of guessing: pass --yes there.
 *
 * @throws {CliError} `not_confirmed` (exit 2) without a terminal; `declined` (exit 1) on any answer but y/yes.
 */
export async function confirm(question: string, streams: PromptStreams): Promise<void> {
  if (!streams.input.isTTY) {
    throw new CliError(
      "not_confirmed",
      `${question} Not asked: standard input is not a terminal; pass --yes to confirm`,
    );
  }
  const prompt = createInterface({ input: streams.input, output: streams.output });
  try {
    const answer = (await prompt.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new CliError("declined", "nothing was done: not confirmed");
  } finally {
    prompt.close();
  }
}
