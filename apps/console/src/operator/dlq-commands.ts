import type { Command } from "commander";
import { CliError } from "./cli-error.ts";
import { confirm } from "./confirm.ts";
import { deadLetterIds, deadLetters, discardDeadLetters, retryDeadLetters } from "./console-rpc.ts";
import { formatJson, formatTable, formatTime } from "./format-table.ts";
import { type CliContext, type CommandOutput, runOperatorCommand } from "./operator-command.ts";
import type { OperatorConnection } from "./operator-connection.ts";
import { parseMessageIds, parseWholeNumber } from "./parse-options.ts";
import { createProgressBar } from "./progress-bar.ts";

type Exit = (code: number) => void;

interface SelectOptions {
  readonly all?: boolean;
  readonly id?: readonly string[];
  readonly code?: string;
  readonly batchSize?: string;
  readonly yes?: boolean;
  readonly json?: boolean;
}

const number = new Intl.NumberFormat("en-US");

/** The dead letters a retry or discard acts on: the given ids, or every one (of one error code). */
async function selectDeadLetters(
  db: OperatorConnection,
  queue: string,
  options: SelectOptions,
): Promise<number[]> {
  const ids = options.id ?? [];
  if (options.all && ids.length > 0) {
    throw new CliError("invalid_argument", "give either --all or --id, not both");
  }
  if (!options.all && ids.length === 0) {
    throw new CliError(
      "invalid_argument",
      "name the dead letters: --id <msg_id...>, or --all (optionally with --code <error code>)",
    );
  }
  if (options.all) return deadLetterIds(db, queue, options.code ?? null);
  return parseMessageIds(ids);
}

/**
 * Acts on `ids` in batches of `batchSize` (each batch one transaction in the database), drawing
 * progress on a terminal. Returns how many the database acted on.
 */
async function inBatches(
  context: CliContext,
  ids: readonly number[],
  batchSize: number,
  label: string,
  act: (batch: readonly number[]) => Promise<number>,
): Promise<number> {
  const bar = createProgressBar(context.progress, ids.length, label);
  let done = 0;
  let acted = 0;
  try {
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      acted += await act(batch);
      done += batch.length;
      bar.update(done);
    }
  } finally {
    bar.finish();
  }
  return acted;
}

function selection(options: SelectOptions): string {
  return options.code ? ` with error code ${options.code}` : "";
}

/** `dlq list | retry | discard <queue>`. */
export function addDlqCommands(program: Command, context: CliContext, exit: Exit): void {
  const dlq = program
    .command("dlq")
    .description("dead letters: messages that failed for good, kept in <queue>_dlq with why they failed");

  dlq
    .command("list")
    .argument("<queue>", "the main queue, e.g. email_queue")
    .description("dead letters with error code, message and attempts; personal data masked")
    .option("--limit <n>", "how many, 1 to 1000", "50")
    .option(
      "--search <text>",
      "only those with this exact address, or whose error or masked payload contains this text",
    )
    .option("--code <error code>", "only this error code")
    .option("--json", "print JSON (whole payloads) instead of a table")
    .action(
      async (queue: string, options: { limit?: string; search?: string; code?: string; json?: boolean }) => {
        exit(
          await runOperatorCommand(context, options, async (db) => {
            const limit = parseWholeNumber("--limit", options.limit, 50, 1, 1000);
            const rows = (await deadLetters(db, queue, limit, options.search ?? null)).filter(
              (row) => options.code === undefined || row.error_code === options.code,
            );
            return {
              json: { queue, dead_letters: rows },
              lines:
                rows.length === 0
                  ? [`no dead letters of ${queue}${selection(options)}`]
                  : formatTable(rows, [
                      { heading: "MSG_ID", value: (row) => String(row.msg_id), align: "right" },
                      { heading: "FAILED", value: (row) => formatTime(row.enqueued_at) },
                      { heading: "CODE", value: (row) => row.error_code ?? "-" },
                      { heading: "ATTEMPTS", value: (row) => String(row.attempts ?? "-"), align: "right" },
                      { heading: "ERROR", value: (row) => (row.error_message ?? "-").slice(0, 60) },
                      { heading: "PAYLOAD", value: (row) => formatJson(row.payload, 60) },
                    ]),
            };
          }),
        );
      },
    );

  const selectOptions = (command: Command) =>
    command
      .argument("<queue>", "the main queue, e.g. email_queue")
      .option("--all", "every dead letter of the queue (with --code: of that error code)")
      .option("--id <msg_id...>", "these dead letters (ids from dlq list)")
      .option("--code <error code>", "only dead letters with this error code")
      .option("--batch-size <n>", "dead letters per transaction, 1 to 10000", "500")
      .option("--json", "print JSON instead of a sentence");

  selectOptions(
    dlq.command("retry").description("put the original messages back in their queue, atomically per batch"),
  ).action(async (queue: string, options: SelectOptions) => {
    exit(
      await runOperatorCommand(context, options, async (db) => {
        const batchSize = parseWholeNumber("--batch-size", options.batchSize, 500, 1, 10_000);
        const ids = await selectDeadLetters(db, queue, options);
        const moved = await inBatches(context, ids, batchSize, "dead letters retried", (batch) =>
          retryDeadLetters(db, queue, batch, options.code ?? null),
        );
        return outcome(queue, "retried", ids.length, moved, `back in ${queue}`, options);
      }),
    );
  });

  selectOptions(
    dlq
      .command("discard")
      .description(
        "drop dead letters (kept in the archive pgmq.a_<queue>_dlq until purge-queue-archives); asks first",
      ),
  )
    .option("--yes", "do not ask for confirmation (required when standard input is not a terminal)")
    .action(async (queue: string, options: SelectOptions) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const batchSize = parseWholeNumber("--batch-size", options.batchSize, 500, 1, 10_000);
          const ids = await selectDeadLetters(db, queue, options);
          if (ids.length > 0 && !options.yes) {
            await confirm(
              `Discard ${number.format(ids.length)} dead letter${ids.length === 1 ? "" : "s"} of ${queue}${selection(options)}?`,
              context.prompt,
            );
          }
          const discarded = await inBatches(context, ids, batchSize, "dead letters discarded", (batch) =>
            discardDeadLetters(db, queue, batch, options.code ?? null),
          );
          return outcome(
            queue,
            "discarded",
            ids.length,
            discarded,
            `archived in pgmq.a_${queue}_dlq`,
            options,
          );
        }),
      );
    });
}

function outcome(
  queue: string,
  verb: "retried" | "discarded",
  requested: number,
  acted: number,
  where: string,
  options: SelectOptions,
): CommandOutput {
  if (requested === 0) {
    return {
      json: { queue, requested, [verb]: 0 },
      lines: [`no dead letters of ${queue}${selection(options)}: nothing to do`],
    };
  }
  const lines = [
    `${verb} ${number.format(acted)} of ${number.format(requested)} dead letters of ${queue}: ${where}`,
  ];
  if (acted < requested) {
    lines.push(
      `${number.format(requested - acted)} not ${verb}: no longer in ${queue}_dlq (retried or discarded meanwhile), another error code, or not a dead letter this command can retry`,
    );
  }
  return { json: { queue, requested, [verb]: acted }, lines, complete: acted === requested };
}
