import { RetryableError } from "../consumer/errors.ts";
import type { PaymentProvider, ProviderPayment } from "./payment-provider.ts";

/**
 * Stands in for the provider while its credentials are not configured: every lookup fails with a
 * retryable `provider_not_configured`, so `verify` messages wait (with backoff, up to the queue's
 * max attempts) for the operator instead of being lost, while `completed` / `failed` still work.
 */
export class UnconfiguredPaymentProvider implements PaymentProvider {
  readonly name: string;
  readonly #hint: string;

  constructor(name: string, hint: string) {
    this.name = name;
    this.#hint = hint;
  }

  async getPayment(): Promise<ProviderPayment> {
    throw new RetryableError(
      "provider_not_configured",
      `the ${this.name} client is not configured: ${this.#hint}`,
    );
  }
}
