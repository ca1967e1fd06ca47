import type * as z from "zod";
import { analyticsMessageSchema } from "./catalog.ts";
import { definedArguments, type QueueTransport, toMsgId } from "./queue-transport.ts";
import { validateInput } from "./validate-input.ts";

/** An `analytics_queue` message as a producer writes it: no `version`; `occurred_at` defaults to now. */
export const trackEventInputSchema = analyticsMessageSchema
  .omit({ version: true })
  .extend({
    idempotency_key: analyticsMessageSchema.shape.idempotency_key.optional(),
    occurred_at: analyticsMessageSchema.shape.occurred_at.optional(),
  })
  .strict();

/** What {@link trackEvent} takes; `occurred_at` may be a Date. */
export type TrackEventInput = Omit<z.input<typeof trackEventInputSchema>, "occurred_at"> & {
  readonly occurred_at?: string | Date | undefined;
};

/**
 * Queues an analytics event through `public.track_event` (service_role only).
 *
 * ### Examples
 * ```ts
 * await trackEvent(kyselyTransport(db), {
 *   event: "report_generated",
 *   entity_id: assessment.id,
 *   user_id: assessment.user_id,
 *   properties: { pages: 4 },
 * });
 * ```
 *
 * @throws {InvalidMessageError} naming every bad field; nothing is sent.
 * @throws {QueueRpcError} when the database refuses the call.
 */
export async function trackEvent(
  transport: QueueTransport,
  input: TrackEventInput,
): Promise<{ readonly msgId: number }> {
  const occurredAt = input.occurred_at instanceof Date ? input.occurred_at.toISOString() : input.occurred_at;
  const message = definedArguments({ ...input, occurred_at: occurredAt });
  validateInput("analytics_queue message", trackEventInputSchema, message);
  const result = await transport.call(
    "track_event",
    definedArguments({
      event: input.event,
      entity_id: input.entity_id,
      user_id: input.user_id,
      properties: input.properties,
      occurred_at: occurredAt,
      idempotency_key: input.idempotency_key,
    }),
  );
  return { msgId: toMsgId("track_event", result) };
}
