import type { Database } from "@balansity/db";
import type { Kysely } from "kysely";

export type PaymentStatus = "pending" | "completed" | "failed" | "refunded";

const paymentStatuses: readonly string[] = ["pending", "completed", "failed", "refunded"];

/** A row of public.payments, as the payment processor needs it. */
export interface PaymentRecord {
  readonly id: string;
  readonly status: PaymentStatus;
  /** numeric(12,2) as text, e.g. `1500.00`: never a float. */
  readonly amount: string;
  readonly currency: string;
  readonly provider: string;
  readonly providerPaymentId: string | null;
}

/** Reads one payment without locking it (the provider is asked before anything is locked). */
export async function findPayment(
  db: Kysely<Database>,
  paymentId: string,
): Promise<PaymentRecord | undefined> {
  const row = await db
    .selectFrom("payments")
    .select(["id", "status", "amount", "currency", "provider", "provider_payment_id"])
    .where("id", "=", paymentId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    status: toPaymentStatus(row.status),
    amount: row.amount,
    currency: row.currency,
    provider: row.provider,
    providerPaymentId: row.provider_payment_id,
  };
}

/** payments.status as its check constraint (payments_status_check) allows it. */
export function toPaymentStatus(status: string): PaymentStatus {
  if (!paymentStatuses.includes(status)) {
    throw new Error(`public.payments.status "${status}" is not one of ${paymentStatuses.join(", ")}`);
  }
  return status as PaymentStatus;
}
