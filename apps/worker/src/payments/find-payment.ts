import type { Queryable } from "@balansity/queues/consumer";

export type PaymentStatus = "pending" | "completed" | "failed" | "refunded";

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

interface PaymentRow {
  id: string;
  status: PaymentStatus;
  amount: string;
  currency: string;
  provider: string;
  provider_payment_id: string | null;
}

/** Reads one payment without locking it (the provider is asked before anything is locked). */
export async function findPayment(db: Queryable, paymentId: string): Promise<PaymentRecord | undefined> {
  const result = await db.query(
    `select p.id, p.status, p.amount::text as amount, p.currency, p.provider, p.provider_payment_id
       from public.payments p
      where p.id = $1`,
    [paymentId],
  );
  const row = result.rows[0] as PaymentRow | undefined;
  if (!row) return undefined;
  return {
    id: row.id,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    provider: row.provider,
    providerPaymentId: row.provider_payment_id,
  };
}
