import type { Database } from "@balansity/db";
import type { Kysely } from "kysely";
import { type PaymentStatus, toPaymentStatus } from "./find-payment.ts";

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
  db: Kysely<Database>,
  paymentId: string,
  target: { readonly status: SettledStatus; readonly failureReason?: string | null },
): Promise<SettleOutcome> {
  return db.transaction().execute(async (trx) => {
    const locked = await trx
      .selectFrom("payments")
      .select("status")
      .where("id", "=", paymentId)
      .forUpdate()
      .executeTakeFirst();
    if (locked === undefined) return { kind: "not_found" };
    const current = toPaymentStatus(locked.status);
    const kind = decideTransition(current, target.status);
    if (kind !== "changed") return { kind, current };
    await trx
      .updateTable("payments as p")
      .set((eb) => ({
        status: target.status,
        failure_reason:
          target.status === "failed" && target.failureReason != null
            ? target.failureReason
            : eb.ref("p.failure_reason"),
      }))
      .where("p.id", "=", paymentId)
      .execute();
    return { kind, previous: current };
  });
}
