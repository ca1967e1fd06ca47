import { RetryableError } from "../consumer/errors.ts";
import type { PaymentProvider, ProviderPayment, ProviderRefund } from "./payment-provider.ts";

/**
 * Stands in for the provider while its credentials are not configured: every call fails with a
 * retryable `provider_not_configured`, so payment messages wait (with backoff, up to the queue's
 * max attempts) for the operator instead of being lost: without the provider's word nothing is settled.
 */
export class UnconfiguredPaymentProvider implements PaymentProvider {
  readonly name: string;
  readonly #hint: string;

  constructor(name: string, hint: string) {
    this.name = name;
    this.#hint = hint;
  }

  async getPayment(): Promise<ProviderPayment> {
    throw this.#notConfigured();
  }

  async createRefund(): Promise<ProviderRefund> {
    throw this.#notConfigured();
  }

  #notConfigured(): RetryableError {
    return new RetryableError(
      "provider_not_configured",
      `the ${this.name} client is not configured: ${this.#hint}`,
    );
  }
}
