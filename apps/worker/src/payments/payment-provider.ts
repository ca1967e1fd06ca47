/** A payment's state at the provider (YooKassa's statuses, which other providers map onto). */
export type ProviderPaymentStatus = "pending" | "waiting_for_capture" | "succeeded" | "canceled";

/** What the worker needs to know about a payment from the provider. */
export interface ProviderPayment {
  /** The provider's id (public.payments.provider_payment_id). */
  readonly id: string;
  readonly status: ProviderPaymentStatus;
  readonly paid: boolean;
  /** Major units as a decimal string, e.g. `{ value: "1500.00", currency: "RUB" }`. */
  readonly amount: { readonly value: string; readonly currency: string };
  /** Who cancelled and why; set when status is canceled. */
  readonly cancellation: { readonly party: string; readonly reason: string } | undefined;
  readonly createdAt: string;
  readonly capturedAt: string | undefined;
}

/** A refund at the provider (YooKassa's refund object, the fields we use). */
export interface ProviderRefund {
  readonly id: string;
  /** The provider's payment id it refunds. */
  readonly paymentId: string;
  readonly status: "pending" | "succeeded" | "canceled";
  readonly amount: { readonly value: string; readonly currency: string };
}

/**
 * Reads payments from a payment provider and asks it for refunds. Implementations throw `PermanentError` when asking again
 * cannot help (no such payment, a response that makes no sense) and `RetryableError` otherwise.
 *
 * ### Examples
 * ```ts
 * const payment = await provider.getPayment("2d5c7a5e-000f-5000-9000-1b8a7c1e2f10", { signal });
 * if (payment.status === "succeeded") { ... }
 * ```
 */
export interface PaymentProvider {
  /** The provider's name as public.payments.provider spells it, e.g. `yookassa`. */
  readonly name: string;
  getPayment(
    providerPaymentId: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<ProviderPayment>;
  /**
   * Refunds (part of) a succeeded payment. The same `idempotenceKey` returns the same refund instead
   * of a second one, so a retried message refunds once.
   */
  createRefund(
    request: {
      readonly providerPaymentId: string;
      readonly amount: { readonly value: string; readonly currency: string };
      readonly idempotenceKey: string;
    },
    options?: { readonly signal?: AbortSignal },
  ): Promise<ProviderRefund>;
  /** Resolves when the provider's API answers again (used while the payment queue is paused). */
  probe?(): Promise<void>;
}
