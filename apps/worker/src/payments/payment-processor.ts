import { createDb, type Database } from "@balansity/db";
import type { QueueMessage } from "@balansity/queues";
import type { Kysely } from "kysely";
import type pg from "pg";
import { PermanentError, RetryableError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import { findPayment } from "./find-payment.ts";
import type { PaymentProvider, ProviderPayment } from "./payment-provider.ts";
import { type SettledStatus, settlePayment } from "./settle-payment.ts";

/**
 * payment_processing_queue: brings public.payments in line with the provider.
 *
 *   verify     ask the provider: succeeded → completed; canceled → failed (with the provider's
 *              reason); pending / waiting_for_capture → RetryableError `payment_pending`, so the
 *              message is checked again after its backoff (until the queue's max attempts)
 *   completed  the provider told us (a webhook): make it completed
 *   failed     the same for failed
 *
 * Every action is idempotent: the status is written only when it changes, in one transaction with the
 * row locked, and the on_payment_status_change trigger does the rest (appointment paid, email,
 * analytics event) exactly once per change. This processor therefore never queues an email itself.
 * A payment settled the other way already (completed vs failed) is a `payment_status_conflict` for a
 * person (dead-letter queue), never silently flipped.
 */
export class PaymentProcessor implements Processor<"payment_processing_queue"> {
  readonly queue = "payment_processing_queue" as const;
  readonly #db: Kysely<Database>;
  readonly #provider: PaymentProvider;
  /** While the provider's API is away the queue pauses (verify needs it; the rest waits in order). */
  readonly probes: Readonly<Record<string, () => Promise<void>>>;

  constructor(options: { pool: pg.Pool; provider: PaymentProvider }) {
    this.#db = createDb(options.pool);
    this.#provider = options.provider;
    const provider = options.provider;
    this.probes = provider.probe ? { payment_provider: () => provider.probe?.() ?? Promise.resolve() } : {};
  }

  async process(message: QueueMessage<"payment_processing_queue">, context: ProcessorContext): Promise<void> {
    switch (message.action) {
      case "verify":
        return this.#verify(message.payment_id, context);
      case "completed":
        return this.#settle(message.payment_id, { status: "completed" }, context);
      case "failed":
        return this.#settle(message.payment_id, { status: "failed" }, context);
    }
  }

  async #verify(paymentId: string, context: ProcessorContext): Promise<void> {
    const payment = await findPayment(this.#db, paymentId);
    if (!payment) throw notFound(paymentId);
    if (payment.status !== "pending") {
      context.logger.info(
        { payment_id: paymentId, status: payment.status },
        "payment already settled; nothing to verify",
      );
      return;
    }
    if (payment.provider !== this.#provider.name) {
      throw new PermanentError(
        "unsupported_provider",
        `payment ${paymentId} is a ${payment.provider} payment; this worker verifies ${this.#provider.name} payments only`,
      );
    }
    if (!payment.providerPaymentId) {
      throw new PermanentError(
        "provider_payment_id_missing",
        `payment ${paymentId} has no provider_payment_id, so ${payment.provider} cannot be asked about it`,
      );
    }
    const remote = await this.#provider.getPayment(payment.providerPaymentId, { signal: context.signal });
    if (remote.id !== payment.providerPaymentId) {
      throw new PermanentError(
        "provider_bad_response",
        `asked ${payment.provider} for payment ${payment.providerPaymentId} and got ${remote.id}`,
      );
    }
    if (!sameMoney(payment, remote)) {
      throw new PermanentError(
        "amount_mismatch",
        `payment ${paymentId} is ${payment.amount} ${payment.currency} here but ${remote.amount.value} ${remote.amount.currency} at ${payment.provider}: check it by hand`,
      );
    }
    switch (remote.status) {
      case "succeeded":
        return this.#settle(paymentId, { status: "completed" }, context);
      case "canceled":
        return this.#settle(
          paymentId,
          { status: "failed", failureReason: remote.cancellation?.reason ?? "canceled" },
          context,
        );
      case "pending":
      case "waiting_for_capture":
        throw new RetryableError(
          "payment_pending",
          `payment ${paymentId} is still ${remote.status} at ${payment.provider}; checking again later`,
        );
    }
  }

  async #settle(
    paymentId: string,
    target: { readonly status: SettledStatus; readonly failureReason?: string },
    context: ProcessorContext,
  ): Promise<void> {
    const outcome = await settlePayment(this.#db, paymentId, target);
    switch (outcome.kind) {
      case "not_found":
        throw notFound(paymentId);
      case "conflict":
        throw new PermanentError(
          "payment_status_conflict",
          `payment ${paymentId} is already ${outcome.current}; refusing to make it ${target.status}: check it with the provider`,
        );
      case "unchanged":
        context.logger.info(
          { payment_id: paymentId, status: outcome.current },
          `payment is already ${outcome.current}; nothing to do`,
        );
        return;
      case "changed":
        context.logger.info(
          { payment_id: paymentId, from: outcome.previous, to: target.status },
          "payment status changed",
        );
        return;
    }
  }
}

function notFound(paymentId: string): PermanentError {
  return new PermanentError("payment_not_found", `payment ${paymentId} does not exist in public.payments`);
}

/** Same currency and the same amount, compared as decimals (`1500.00` = `1500.0` = `1500`). */
function sameMoney(ours: { amount: string; currency: string }, theirs: ProviderPayment): boolean {
  return (
    ours.currency.toUpperCase() === theirs.amount.currency.toUpperCase() &&
    normalizeDecimal(ours.amount) === normalizeDecimal(theirs.amount.value)
  );
}

function normalizeDecimal(value: string): string {
  const [whole = "0", fraction = ""] = value.trim().split(".");
  const integer = whole.replace(/^0+(?=\d)/, "");
  const decimals = fraction.replace(/0+$/, "");
  return decimals ? `${integer}.${decimals}` : integer;
}
