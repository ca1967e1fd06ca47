import { createDb, type Database } from "@balansity/db";
import type { QueueMessage } from "@balansity/queues";
import type { Kysely } from "kysely";
import type pg from "pg";
import { PermanentError, RetryableError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import { type ApplyOutcome, applyPaymentNotification } from "./apply-payment-notification.ts";
import { findPayment, type PaymentRecord } from "./find-payment.ts";
import type { PaymentProvider } from "./payment-provider.ts";

/**
 * payment_processing_queue: brings public.payments in line with the provider, on the provider's word
 * only.
 *
 *   verify, completed, failed   ask the provider about the payment (completed and failed are hints,
 *                               never settled on their own): succeeded → completed; canceled → failed
 *                               (with the provider's reason); pending / waiting_for_capture →
 *                               RetryableError `payment_pending`, checked again after the backoff
 *   refund                      ask the provider to refund a completed payment in full (Idempotence-Key:
 *                               the message's idempotency key, so a retry refunds once); a refund that
 *                               succeeds at once is applied now, else by YooKassa's refund.succeeded
 *                               notification (the Edge Function), whichever comes first
 *
 * What the provider said is applied by public.apply_payment_notification, the one SQL function that
 * moves payment statuses (the Edge Function calls it too): once per provider event, with the amount
 * and currency compared; the status triggers then do the rest (appointment, email, event) exactly
 * once. Its refusals are PermanentErrors (`amount_mismatch`, `payment_status_conflict`, …) for a
 * person (dead-letter queue), recorded in automation.payment_notifications.
 */
export class PaymentProcessor implements Processor<"payment_processing_queue"> {
  readonly queue = "payment_processing_queue" as const;
  readonly #db: Kysely<Database>;
  readonly #provider: PaymentProvider;
  /** While the provider's API is away the queue pauses (every action needs it). */
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
      case "completed":
      case "failed":
        return this.#verify(message.payment_id, context);
      case "refund":
        return this.#refund(message.payment_id, message.idempotency_key, context);
    }
  }

  async #verify(paymentId: string, context: ProcessorContext): Promise<void> {
    const payment = await this.#ourPayment(paymentId);
    if (payment.status !== "pending") {
      context.logger.info(
        { payment_id: paymentId, status: payment.status },
        "payment already settled; nothing to verify",
      );
      return;
    }
    const providerPaymentId = this.#providerPaymentId(payment);
    const remote = await this.#provider.getPayment(providerPaymentId, { signal: context.signal });
    if (remote.id !== providerPaymentId) {
      throw new PermanentError(
        "provider_bad_response",
        `asked ${payment.provider} for payment ${providerPaymentId} and got ${remote.id}`,
      );
    }
    if (remote.status === "pending" || remote.status === "waiting_for_capture") {
      throw new RetryableError(
        "payment_pending",
        `payment ${paymentId} is still ${remote.status} at ${payment.provider}; checking again later`,
      );
    }
    const outcome = await applyPaymentNotification(this.#db, {
      provider: payment.provider,
      event: `payment.${remote.status}`,
      objectId: remote.id,
      apiObject: {
        id: remote.id,
        status: remote.status,
        paid: remote.paid,
        amount: remote.amount,
        ...(remote.cancellation ? { cancellation_details: remote.cancellation } : {}),
      },
    });
    this.#follow(outcome, paymentId, context);
  }

  async #refund(paymentId: string, idempotencyKey: string, context: ProcessorContext): Promise<void> {
    const payment = await this.#ourPayment(paymentId);
    if (payment.status === "refunded") {
      context.logger.info({ payment_id: paymentId }, "payment already refunded; nothing to do");
      return;
    }
    if (payment.status !== "completed") {
      throw new PermanentError(
        "payment_not_refundable",
        `payment ${paymentId} is ${payment.status}; only a completed payment can be refunded`,
      );
    }
    const refund = await this.#provider.createRefund(
      {
        providerPaymentId: this.#providerPaymentId(payment),
        amount: { value: payment.amount, currency: payment.currency },
        idempotenceKey: idempotencyKey,
      },
      { signal: context.signal },
    );
    context.logger.info(
      { payment_id: paymentId, refund_id: refund.id, refund_status: refund.status },
      "refund requested",
    );
    if (refund.status === "pending") {
      // The same Idempotence-Key returns this refund again: the retry only reads its state.
      throw new RetryableError(
        "refund_pending",
        `refund ${refund.id} of payment ${paymentId} is still pending`,
      );
    }
    if (refund.status === "canceled") {
      throw new PermanentError(
        "refund_canceled",
        `${payment.provider} canceled refund ${refund.id} of payment ${paymentId}: refund it by hand`,
      );
    }
    const outcome = await applyPaymentNotification(this.#db, {
      provider: payment.provider,
      event: "refund.succeeded",
      objectId: refund.id,
      apiObject: {
        id: refund.id,
        payment_id: refund.paymentId,
        status: refund.status,
        amount: refund.amount,
      },
    });
    this.#follow(outcome, paymentId, context);
  }

  async #ourPayment(paymentId: string): Promise<PaymentRecord> {
    const payment = await findPayment(this.#db, paymentId);
    if (!payment) {
      throw new PermanentError("payment_not_found", `payment ${paymentId} does not exist in public.payments`);
    }
    if (payment.provider !== this.#provider.name) {
      throw new PermanentError(
        "unsupported_provider",
        `payment ${paymentId} is a ${payment.provider} payment; this worker handles ${this.#provider.name} payments only`,
      );
    }
    return payment;
  }

  #providerPaymentId(payment: PaymentRecord): string {
    if (!payment.providerPaymentId) {
      throw new PermanentError(
        "provider_payment_id_missing",
        `payment ${payment.id} has no provider_payment_id, so ${payment.provider} cannot be asked about it`,
      );
    }
    return payment.providerPaymentId;
  }

  #follow(outcome: ApplyOutcome, paymentId: string, context: ProcessorContext): void {
    if (outcome.outcome !== "refused") {
      context.logger.info(
        { payment_id: paymentId, outcome: outcome.outcome, status: outcome.status },
        "payment brought in line with the provider",
      );
      return;
    }
    const code =
      outcome.reason === "amount_mismatch" || outcome.reason === "currency_mismatch"
        ? "amount_mismatch"
        : outcome.reason === "status_conflict"
          ? "payment_status_conflict"
          : "provider_refused";
    throw new PermanentError(
      code,
      `payment ${paymentId}: the provider's answer was refused (${outcome.reason}); recorded in automation.payment_notifications: check it by hand`,
    );
  }
}
