import type { Command } from "commander";
import { peekMessages, queueHistory, queueOverview } from "./console-rpc.ts";
import { formatAge, formatJson, formatTable, formatTime } from "./format-table.ts";
import { type CliContext, runOperatorCommand } from "./operator-command.ts";
import { parseWholeNumber } from "./parse-options.ts";

type Exit = (code: number) => void;

/** `queues list | metrics [queue] | peek <queue>`. */
export function addQueuesCommands(program: Command, context: CliContext, exit: Exit): void {
  const queues = program.command("queues").description("queue depths, their history, and waiting messages");

  queues
    .command("list")
    .description("every queue: depth, oldest message age, dead letters, processed in the last hour")
    .option("--json", "print JSON instead of a table")
    .action(async (options: { json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const rows = await queueOverview(db);
          return {
            json: { queues: rows },
            lines: formatTable(rows, [
              { heading: "QUEUE", value: (row) => row.queue_name },
              { heading: "DEPTH", value: (row) => String(row.depth), align: "right" },
              { heading: "OLDEST", value: (row) => formatAge(row.oldest_msg_age_seconds), align: "right" },
              { heading: "DEAD LETTERS", value: (row) => String(row.dlq_depth ?? "-"), align: "right" },
              { heading: "PROCESSED 1H", value: (row) => String(row.processed_last_hour), align: "right" },
            ]),
          };
        }),
      );
    });

  queues
    .command("metrics")
    .argument("[queue]", "one queue (default: every queue)")
    .description("the per-minute samples: depth and processed per minute")
    .option("--hours <n>", "how far back, 1 to 168 hours", "6")
    .option("--json", "print JSON instead of a table")
    .action(async (queue: string | undefined, options: { hours?: string; json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const hours = parseWholeNumber("--hours", options.hours, 6, 1, 168);
          const rows = await queueHistory(db, queue ?? null, hours);
          return {
            json: { hours, samples: rows },
            lines:
              rows.length === 0
                ? [`no samples in the last ${hours} h (the sample-queue-metrics job records one a minute)`]
                : formatTable(rows, [
                    { heading: "SAMPLED", value: (row) => formatTime(row.sampled_at) },
                    { heading: "QUEUE", value: (row) => row.queue_name },
                    { heading: "DEPTH", value: (row) => String(row.depth), align: "right" },
                    {
                      heading: "PROCESSED/MIN",
                      value: (row) =>
                        row.processed_per_minute === null ? "-" : row.processed_per_minute.toFixed(2),
                      align: "right",
                    },
                  ]),
          };
        }),
      );
    });

  queues
    .command("peek")
    .argument("<queue>", "the queue, e.g. email_queue (dead-letter queues too)")
    .description("the oldest waiting messages, personal data masked; they stay unread")
    .option("--limit <n>", "how many, 1 to 1000", "20")
    .option("--json", "print JSON (whole messages) instead of a table")
    .action(async (queue: string, options: { limit?: string; json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const rows = await peekMessages(db, queue, parseWholeNumber("--limit", options.limit, 20, 1, 1000));
          return {
            json: { queue, messages: rows },
            lines:
              rows.length === 0
                ? [`${queue} is empty`]
                : formatTable(rows, [
                    { heading: "MSG_ID", value: (row) => String(row.msg_id), align: "right" },
                    { heading: "ENQUEUED", value: (row) => formatTime(row.enqueued_at) },
                    { heading: "READS", value: (row) => String(row.read_ct), align: "right" },
                    { heading: "MESSAGE", value: (row) => formatJson(row.message) },
                  ]),
          };
        }),
      );
    });
}
