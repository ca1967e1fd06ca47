import type { Queryable, SendBudget } from "@balansity/queues/consumer";
import type { SmtpConfig } from "../config/worker-config.ts";

/**
 * How much longer than the provider's window a send slot is kept. A slot counts from the delivery
 * log's sent_at (the database's clock, after the server's "250 OK"); the provider counts by its own
 * clock. A second covers clocks that differ a little; on a 15-minute window it costs nothing.
 */
export const SEND_SLOT_MARGIN_SECONDS = 1;

/**
 * The send budget SMTP_SEND_LIMIT asks for, counted per sending account — the SMTP server and the
 * user it authenticates as (else the From address) — so every replica sending as it shares one window.
 * Undefined when no limit is set.
 */
export function sendBudgetFor(smtp: SmtpConfig): SendBudget | undefined {
  if (!smtp.sendLimit) return undefined;
  return {
    account: `${smtp.host}/${smtp.user ?? smtp.from}`,
    limit: smtp.sendLimit.count,
    windowSeconds: smtp.sendLimit.windowSeconds,
    marginSeconds: SEND_SLOT_MARGIN_SECONDS,
  };
}

/**
 * When the budget's window reopens: the oldest send still inside it leaves the window then (the
 * database's clock). Undefined when nothing was sent in the window. A provider that throttles although
 * the budget had room counts more than we do; waiting for this is the budget's best guess.
 */
export async function budgetWindowResetAt(q: Queryable, budget: SendBudget): Promise<Date | undefined> {
  const { rows } = await q.query(
    `select pg_catalog.date_part('epoch', pg_catalog.min(s.reserved_at) + pg_catalog.make_interval(secs => $2)) * 1000 as reset_ms
       from automation.email_send_slots s
      where s.account = $1
        and s.reserved_at > pg_catalog.now() - pg_catalog.make_interval(secs => $2)`,
    [budget.account, budget.windowSeconds + budget.marginSeconds],
  );
  const ms = (rows[0] as { reset_ms: unknown } | undefined)?.reset_ms;
  return ms === null || ms === undefined ? undefined : new Date(Number(ms));
}
