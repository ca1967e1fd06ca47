/**
 * The Balansity operations CLI.
 *
 *   tsx src/cli.ts doctor [--json]   check a database's setup (pnpm doctor from the repository root)
 */
import { Command, CommanderError } from "commander";
import { runDoctorCommand } from "./doctor/doctor-command.ts";
import { exitCodes } from "./doctor/exit-codes.ts";

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("console")
    .description(
      "Balansity operations: checks the database setup of the automation (queues, cron, triggers, grants)",
    )
    .exitOverride()
    .showHelpAfterError();

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
          env: process.env,
          json: options.json === true,
          out: (line) => process.stdout.write(`${line}\n`),
          err: (line) => process.stderr.write(`${line}\n`),
        }),
      );
    });
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  let code: number = exitCodes.ok;
  const program = buildProgram((value) => {
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
    process.stderr.write(`console: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = exitCodes.failed;
  },
);
