import { InvalidMessageError, queueTestEmail, testEmailInputSchema } from "@balansity/queues";
import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "./cli-error.ts";
import { regenerateReport } from "./console-rpc.ts";
import { type CliContext, runOperatorCommand } from "./operator-command.ts";
import { operatorQueueTransport } from "./pg-queue-transport.ts";

type Exit = (code: number) => void;

const assessmentId = z.uuid();

/** `send-test-email <to> <template> [--locale]` and `reports regenerate <assessment>`. */
export function addEmailAndReportCommands(program: Command, context: CliContext, exit: Exit): void {
  program
    .command("send-test-email")
    .argument("<to>", "the recipient's address")
    .argument("<template>", "a template name, e.g. report_ready")
    .description("queue one email of a template with its example variables (high priority)")
    .option("--locale <locale>", "ru or en", "ru")
    .option("--json", "print JSON instead of a sentence")
    .action(async (to: string, template: string, options: { locale?: string; json?: boolean }) => {
      exit(
        await runOperatorCommand(
          context,
          options,
          async (db) => {
            try {
              const { msgId } = await queueTestEmail(operatorQueueTransport(db), {
                to,
                template: template as "report_ready",
                locale: options.locale as "ru",
              });
              return {
                json: { msg_id: msgId, to, template, locale: options.locale },
                lines: [`queued ${template} (${options.locale}) to ${to}: email_queue message ${msgId}`],
              };
            } catch (error) {
              if (error instanceof InvalidMessageError) {
                throw new CliError("invalid_argument", error.message, { cause: error });
              }
              throw error;
            }
          },
          () => {
            const checked = testEmailInputSchema.safeParse({ to, template, locale: options.locale });
            if (!checked.success) {
              const problems = checked.error.issues.map(
                (issue) => `${issue.path.join(".")} ${issue.message}`,
              );
              throw new CliError("invalid_argument", `send-test-email: ${problems.join("; ")}`);
            }
          },
        ),
      );
    });

  const reports = program.command("reports").description("PDF reports of checkups");
  reports
    .command("regenerate")
    .argument("<assessment>", "the checkup's id (a UUID)")
    .description("queue a new PDF report of a completed checkup for its owner")
    .option("--json", "print JSON instead of a sentence")
    .action(async (assessment: string, options: { json?: boolean }) => {
      exit(
        await runOperatorCommand(
          context,
          options,
          async (db) => {
            const msgId = await regenerateReport(db, assessment);
            return {
              json: { msg_id: msgId, assessment_id: assessment },
              lines: [
                `queued a new report of checkup ${assessment}: report_generation_queue message ${msgId}`,
              ],
            };
          },
          () => {
            if (!assessmentId.safeParse(assessment).success) {
              throw new CliError(
                "invalid_argument",
                `<assessment> must be a checkup id (a UUID), got "${assessment}"`,
              );
            }
          },
        ),
      );
    });
}
