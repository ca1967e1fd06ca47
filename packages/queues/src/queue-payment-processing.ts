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
 * Queues work on a payment through
 * `public.queue_payment_processing` (service_role only). `verify`, `completed` and `failed` make the
 * worker ask the provider and apply its answer (never the action's word alone); `refund` asks the
 * provider to refund a completed payment (the idempotency key is its Idempotence-Key).
 *
 * ### Examples
 * ```ts
 * await queuePaymentProcessing(kyselyTransport(db), {
 *   payment_id: payment.id,
 *   action: "refund",
 *   idempotency_key: `refund:${payment.id}`,
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
