import type { Command } from "commander";
import { cronJobs, cronRuns } from "./console-rpc.ts";
import { formatTable, formatTime } from "./format-table.ts";
import { type CliContext, runOperatorCommand } from "./operator-command.ts";
import { parseWholeNumber } from "./parse-options.ts";

type Exit = (code: number) => void;

/** `cron status` and `cron runs <job>`. */
export function addCronCommands(program: Command, context: CliContext, exit: Exit): void {
  const cron = program.command("cron").description("the scheduled jobs (pg_cron or the worker's scheduler)");
  cron
    .command("status")
    .description("each job: schedule, who runs it, last run and failures in the last 24 hours")
    .option("--json", "print JSON instead of a table")
    .action(async (options: { json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const rows = await cronJobs(db);
          return {
            json: { jobs: rows },
            lines: formatTable(rows, [
              { heading: "JOB", value: (row) => row.jobname },
              { heading: "SCHEDULE", value: (row) => row.schedule },
              { heading: "ACTIVE", value: (row) => (row.active ? "yes" : "no") },
              { heading: "RUN BY", value: (row) => row.source },
              { heading: "LAST RUN", value: (row) => formatTime(row.last_run_at) },
              { heading: "STATUS", value: (row) => row.last_status ?? "-" },
              { heading: "FAILED 24H", value: (row) => String(row.failures_24h), align: "right" },
            ]),
          };
        }),
      );
    });

  cron
    .command("runs")
    .argument("<job>", "a job name from cron status, e.g. purge-cron-history")
    .description("the job's last runs, newest first: start, end, status, message")
    .option("--limit <n>", "how many, 1 to 1000", "20")
    .option("--json", "print JSON instead of a table")
    .action(async (job: string, options: { limit?: string; json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const rows = await cronRuns(db, job, parseWholeNumber("--limit", options.limit, 20, 1, 1000));
          return {
            json: { job, runs: rows },
            lines:
              rows.length === 0
                ? [`${job} has not run yet`]
                : formatTable(rows, [
                    { heading: "STARTED", value: (row) => formatTime(row.started_at) },
                    { heading: "FINISHED", value: (row) => formatTime(row.finished_at) },
                    { heading: "STATUS", value: (row) => row.status },
                    { heading: "MESSAGE", value: (row) => (row.message ?? "-").slice(0, 80) },
                  ]),
          };
        }),
      );
    });
}
