/**
 * `balansity`: the Balansity operations CLI (bin of @balansity/console; `pnpm balansity …` at the root).
 *
 *   doctor                                   check a database's setup
 *   queues list | metrics [queue] | peek <queue>
 *   dlq list | retry | discard <queue> [--all | --id …] [--code X]
 *   cron status | runs <job>
 *   send-test-email <to> <template> [--locale ru|en]
 *   reports regenerate <assessment>
 *   user erase <user-id> [--email a] [--report-folder dir] [--dry-run] [--yes]
 *
 * Every command but doctor calls SQL functions over DATABASE_URL: the console's (041_operator_console.sql),
 * and public.erase_user_data (051) for user erase. Exit codes: 0 ok, 1 failed or refused, 2 usage, 69
 * database unreachable, 78 configuration.
 */
import { Command, CommanderError } from "commander";
import { runDoctorCommand } from "./doctor/doctor-command.ts";
import { exitCodes } from "./doctor/exit-codes.ts";
import { addAlertsCommand } from "./operator/alerts-command.ts";
import { addCronCommands } from "./operator/cron-commands.ts";
import { addDlqCommands } from "./operator/dlq-commands.ts";
import { addEmailBudgetCommand } from "./operator/email-budget-command.ts";
import { addEmailAndReportCommands } from "./operator/email-reports-commands.ts";
import type { CliContext } from "./operator/operator-command.ts";
import { addQueuesCommands } from "./operator/queues-commands.ts";
import { addUserEraseCommand } from "./operator/user-erase-command.ts";

const EXIT_CODES_HELP =
  "\nExit codes: 0 done, 1 failed or refused, 2 usage (bad command line or argument, discard without --yes off a terminal),\n" +
  "69 the database cannot be reached, 78 DATABASE_URL (or DATABASE_*) missing or wrong.";

function buildProgram(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command("balansity")
    .description(
      "Balansity operations: check the setup, watch queues, handle dead letters, cron jobs, test emails and reports",
    )
    .exitOverride()
    .showHelpAfterError()
    .addHelpText("after", EXIT_CODES_HELP);
  // Subcommands report usage errors the same way (exit 2) and are parsed by their own options.
  program.configureOutput({ writeErr: (text) => context.err(text.trimEnd()) });

  program
    .command("doctor")
    .description(
      "check the database in DATABASE_URL (or DATABASE_HOST...): extensions, migrations, cron jobs, queues, triggers, functions, grants, RLS, queue health",
    )
    .option("--json", "print the results as one JSON document instead of lines")
    .addHelpText(
      "after",
      '\nPrints PASS / WARN / FAIL per check, each FAIL with its fix, then "N passed, N failed".\n' +
        "Exit code: 0 every check passed (warnings allowed), 1 a check failed or no connection, 78 invalid configuration.",
    )
    .action(async (options: { json?: boolean }) => {
      setExitCode(
        await runDoctorCommand({
          env: context.env,
          json: options.json === true,
          out: context.out,
          err: context.err,
        }),
      );
    });

  addQueuesCommands(program, context, setExitCode);
  addDlqCommands(program, context, setExitCode);
  addCronCommands(program, context, setExitCode);
  addEmailAndReportCommands(program, context, setExitCode);
  addEmailBudgetCommand(program, context, setExitCode);
  addUserEraseCommand(program, context, setExitCode);
  addAlertsCommand(program, context, setExitCode);
  for (const command of program.commands) command.exitOverride();
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  let code: number = exitCodes.ok;
  const context: CliContext = {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: process.stderr,
    prompt: { input: process.stdin, output: process.stderr },
  };
  const program = buildProgram(context, (value) => {
    code = value;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    // Commander has printed the message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    throw error;
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`balansity: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = exitCodes.failed;
  },
);
