import type { SendBudget } from "@balansity/queues/consumer";
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
