import type * as z from "zod";
import { paymentMessageSchema } from "./catalog.ts";
import { definedArguments, type QueueTransport, toMsgId } from "./queue-transport.ts";
import { validateInput } from "./validate-input.ts";

/** A `payment_processing_queue` message as a producer writes it: no `version`. */
export const paymentProcessingInputSchema = paymentMessageSchema
  .omit({ version: true })
  .extend({ idempotency_key: paymentMessageSchema.shape.idempotency_key.optional() })
  .strict();

export type PaymentProcessingInput = z.input<typeof paymentProcessingInputSchema>;

/**
 * Queues work on a payment (verify it, or act on its completion or failure) through
 * `public.queue_payment_processing` (service_role only: the payment provider's webhook handler).
 *
 * ### Examples
 * ```ts
 * await queuePaymentProcessing(kyselyTransport(db), {
 *   payment_id: payment.id,
 *   action: "completed",
 *   idempotency_key: `payment_completed:${payment.id}`,
 * });
 * ```
 *
 * @throws {InvalidMessageError} naming every bad field; nothing is sent.
 * @throws {QueueRpcError} when the database refuses the call.
 */
export async function queuePaymentProcessing(
  transport: QueueTransport,
  input: PaymentProcessingInput,
): Promise<{ readonly msgId: number }> {
  validateInput("payment_processing_queue message", paymentProcessingInputSchema, input);
  const result = await transport.call(
    "queue_payment_processing",
    definedArguments({
      payment_id: input.payment_id,
      action: input.action,
      idempotency_key: input.idempotency_key,
    }),
  );
  return { msgId: toMsgId("queue_payment_processing", result) };
}
