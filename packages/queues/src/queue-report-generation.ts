import type * as z from "zod";
import { reportMessageSchema } from "./catalog.ts";
import { definedArguments, type QueueTransport, toMsgId } from "./queue-transport.ts";
import { validateInput } from "./validate-input.ts";

/** A `report_generation_queue` message as a producer writes it: no `version`; `report_type` defaults to pdf. */
export const reportGenerationInputSchema = reportMessageSchema
  .omit({ version: true })
  .extend({
    idempotency_key: reportMessageSchema.shape.idempotency_key.optional(),
    report_type: reportMessageSchema.shape.report_type.optional(),
  })
  .strict();

export type ReportGenerationInput = z.input<typeof reportGenerationInputSchema>;

/**
 * Queues a PDF report of a checkup through `public.queue_report_generation` (service_role only).
 * A signed-in user in the browser uses {@link requestAssessmentReport} instead.
 *
 * ### Examples
 * ```ts
 * const { msgId } = await queueReportGeneration(kyselyTransport(trx), {
 *   assessment_id: assessment.id,
 *   user_id: assessment.user_id,
 *   idempotency_key: `report:${assessment.id}`,
 * });
 * ```
 *
 * @throws {InvalidMessageError} naming every bad field; nothing is sent.
 * @throws {QueueRpcError} when the database refuses the call.
 */
export async function queueReportGeneration(
  transport: QueueTransport,
  input: ReportGenerationInput,
): Promise<{ readonly msgId: number }> {
  validateInput("report_generation_queue message", reportGenerationInputSchema, input);
  const result = await transport.call(
    "queue_report_generation",
    definedArguments({
      assessment_id: input.assessment_id,
      user_id: input.user_id,
      report_type: input.report_type,
      idempotency_key: input.idempotency_key,
      requested_by: input.requested_by,
    }),
  );
  return { msgId: toMsgId("queue_report_generation", result) };
}
