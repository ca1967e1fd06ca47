import { emailSendTierNames, emailSendTiers } from "@balansity/queues";
import type { Command } from "commander";
import { type CliContext, runOperatorCommand } from "./operator-command.ts";
import type { OperatorConnection } from "./operator-connection.ts";

type Exit = (code: number) => void;

/** One sending account's budget as `public.email_budget_status` (049) reports it. */
export interface EmailBudgetRow {
  readonly account: string;
  readonly send_limit: number;
  readonly window_seconds: number;
  readonly sent_in_window: number;
  readonly remaining: number;
  readonly next_slot_at: Date | null;
  /** Emails waiting (visible in email_queue) per tier, 0 first. */
  readonly waiting: readonly number[];
}

/** The send budget of every account a worker sends as (SMTP_SEND_LIMIT), with what waits for it. */
export async function emailBudget(db: OperatorConnection): Promise<EmailBudgetRow[]> {
  const rows = await db.query<{
    account: string;
    send_limit: number;
    window_seconds: number;
    sent_in_window: number;
    remaining: number;
    next_slot_at: Date | null;
    waiting_tier_0: string;
    waiting_tier_1: string;
    waiting_tier_2: string;
  }>("select * from public.email_budget_status($1::jsonb)", [JSON.stringify(emailSendTiers)]);
  return rows.map((row) => ({
    account: row.account,
    send_limit: row.send_limit,
    window_seconds: row.window_seconds,
    sent_in_window: row.sent_in_window,
    remaining: row.remaining,
    next_slot_at: row.next_slot_at,
    waiting: [row.waiting_tier_0, row.waiting_tier_1, row.waiting_tier_2].map(Number),
  }));
}

/** `email budget [--json]`. */
export function addEmailBudgetCommand(program: Command, context: CliContext, exit: Exit): void {
  program
    .command("email")
    .description("outgoing email")
    .command("budget")
    .description(
      "the SMTP send budget (SMTP_SEND_LIMIT): sent in the window, remaining, waiting per priority",
    )
    .option("--json", "print JSON instead of lines")
    .action(async (options: { json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const budgets = await emailBudget(db);
          if (budgets.length === 0) {
            return {
              json: { budgets: [] },
              lines: ["no send budget: no worker has read email under SMTP_SEND_LIMIT yet"],
            };
          }
          return {
            json: { budgets },
            lines: budgets.flatMap((budget) => [
              `${budget.account}: ${budget.sent_in_window} of ${budget.send_limit} sent in the last ${budget.window_seconds} s, ` +
                `${budget.remaining} remaining` +
                (budget.remaining === 0 && budget.next_slot_at
                  ? `; next slot ${budget.next_slot_at.toISOString()}`
                  : ""),
              `  waiting for the send budget: ${emailSendTierNames
                .map((name, tier) => `${name} ${budget.waiting[tier] ?? 0}`)
                .join(", ")}`,
            ]),
          };
        }),
      );
    });
}
