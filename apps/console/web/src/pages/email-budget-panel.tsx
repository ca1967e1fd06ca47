import { emailSendTierNames } from "@balansity/queues";
import { formatTime } from "../components/format.ts";
import { LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi, EmailBudgetRow } from "../console-api.ts";

/** "50 in 15 min", "20 in 10 s", "500 in 1 h". */
function formatBudget(limit: number, windowSeconds: number): string {
  if (windowSeconds % 3600 === 0) return `${limit} in ${windowSeconds / 3600} h`;
  if (windowSeconds % 60 === 0) return `${limit} in ${windowSeconds / 60} min`;
  return `${limit} in ${windowSeconds} s`;
}

/**
 * The SMTP send budget every worker replica shares (SMTP_SEND_LIMIT): what was sent in the window,
 * what remains, and what waits — in the queue per tier, and in the delivery log for the budget or
 * the per-mailbox limit. Throttle pauses live in the worker's memory and log, not in the database.
 */
export function EmailBudgetPanel({
  api,
  refreshMs,
}: {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
}) {
  const budget = usePolling(() => api.emailBudget(), refreshMs, [api]);
  const rows = budget.data ?? [];
  return (
    <section>
      <h3>Send budget</h3>
      <LoadState loading={budget.loading && !budget.data} error={budget.error} />
      {rows.length > 0 && (
        <table data-testid="email-budget">
          <thead>
            <tr>
              <th>account</th>
              <th className="num">budget</th>
              <th className="num">sent in window</th>
              <th className="num">remaining</th>
              <th>next slot</th>
              {emailSendTierNames.map((name) => (
                <th key={name} className="num">
                  waiting: {name}
                </th>
              ))}
              <th className="num">waiting for the send budget</th>
              <th className="num">waiting for a mailbox</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <BudgetRow key={row.account ?? "none"} row={row} />
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">
        At most {rows[0]?.recipient_limit_per_minute ?? 30} emails a minute to one mailbox (setting
        email_recipient_limit_per_minute), held where a send budget is configured. Throttle replies (421/45x)
        pause the worker: see its log.
      </p>
    </section>
  );
}

function BudgetRow({ row }: { readonly row: EmailBudgetRow }) {
  const waiting = [row.waiting_tier_0, row.waiting_tier_1, row.waiting_tier_2];
  const configured = row.send_limit !== null && row.window_seconds !== null;
  return (
    <tr data-account={row.account ?? ""}>
      <td>{row.account ?? "no send budget (SMTP_SEND_LIMIT off)"}</td>
      <td className="num">{configured ? formatBudget(row.send_limit ?? 0, row.window_seconds ?? 0) : "—"}</td>
      <td className="num" data-testid="budget-sent">
        {row.sent_in_window ?? "—"}
      </td>
      <td className={`num ${row.remaining === 0 ? "warn" : ""}`} data-testid="budget-remaining">
        {row.remaining ?? "—"}
      </td>
      <td className="small">{row.remaining === 0 ? formatTime(row.next_slot_at) : "—"}</td>
      {waiting.map((count, tier) => (
        <td key={emailSendTierNames[tier]} className="num" data-testid={`budget-waiting-tier-${tier}`}>
          {count}
        </td>
      ))}
      <td className="num" data-testid="budget-waiting-log">
        {row.waiting_for_budget}
      </td>
      <td className="num">{row.waiting_for_mailbox}</td>
    </tr>
  );
}
