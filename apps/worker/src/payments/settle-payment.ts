import type pg from "pg";
import type { PaymentStatus } from "./find-payment.ts";

/** Where a payment can be moved by the worker. */
export type SettledStatus = "completed" | "failed";

export type SettleOutcome =
  /** The status was changed; the on_payment_status_change trigger did the rest in the same transaction. */
  | { readonly kind: "changed"; readonly previous: PaymentStatus }
  /** Nothing to do: it already has that status (or, for completed, was completed and then refunded). */
  | { readonly kind: "unchanged"; readonly current: PaymentStatus }
  /** It is settled the other way (completed vs failed): a person has to look. Nothing was changed. */
  | { readonly kind: "conflict"; readonly current: PaymentStatus }
  | { readonly kind: "not_found" };

/**
 * The transitions the worker makes: pending → completed and pending → failed. The same status again
 * is a no-op; so is "completed" for a refunded payment (a late or repeated report of its success);
 * anything else contradicts what we already know.
 */
export function decideTransition(current: PaymentStatus, target: SettledStatus): SettleOutcome["kind"] {
  if (current === target) return "unchanged";
  if (current === "pending") return "changed";
  if (current === "refunded" && target === "completed") return "unchanged";
  return "conflict";
}

/**
 * Moves a payment to `completed` or `failed` in one transaction, with the row locked (`for update`)
 * so that two workers handling two messages about it decide one after the other. Only a real change
 * writes: the on_payment_status_change trigger (032) then marks the appointment paid and queues the
 * email and the analytics event, in the same transaction, exactly once per transition.
 *
 * `failureReason` (failed only) replaces the stored reason when given.
 */
export async function settlePayment(
  pool: pg.Pool,
  paymentId: string,
  target: { readonly status: SettledStatus; readonly failureReason?: string | null },
): Promise<SettleOutcome> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("begin");
    const locked = await client.query<{ status: PaymentStatus }>(
      "select p.status from public.payments p where p.id = $1 for update",
      [paymentId],
    );
    const current = locked.rows[0]?.status;
    let outcome: SettleOutcome;
    if (current === undefined) {
      outcome = { kind: "not_found" };
    } else {
      const kind = decideTransition(current, target.status);
      if (kind === "changed") {
        await client.query(
          `update public.payments p
              set status = $2,
                  failure_reason = case when $2 = 'failed' then coalesce($3, p.failure_reason) else p.failure_reason end
            where p.id = $1`,
          [paymentId, target.status, target.failureReason ?? null],
        );
        outcome = { kind, previous: current };
      } else {
        outcome = { kind, current };
      }
    }
    await client.query("commit");
    return outcome;
  } catch (error) {
    try {
      await client.query("rollback");
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    // A connection whose rollback failed is in an unknown state: close it instead of pooling it.
    client.release(broken);
  }
}
