/**
 * The longest text each template variable accepts, in characters (Unicode code points, as
 * PostgreSQL's `length()` counts them). The database columns these variables come from carry the
 * same limits as check constraints (supabase/migrations/039_security_limits.sql), so a row the
 * database accepts always renders; a test compares the two.
 */
export const textLimits = Object.freeze({
  /** `user_name`, from `profiles.full_name`. */
  userName: 200,
  /** `assessment_title`, from `assessments.title`. */
  assessmentTitle: 300,
  /** `consultant_name`, from `appointments.specialist_name`. */
  consultantName: 200,
  /** `failure_reason`, from `payments.failure_reason`. */
  failureReason: 500,
  /** `description` of a payment email (no column: set by the producer). */
  paymentDescription: 300,
  /** Every link (`meeting_url` from `appointments.meeting_url`, `report_url`, …). */
  url: 2048,
  /** Ids (`assessment_id`, `payment_id`, …). */
  entityId: 200,
});

/** Length as PostgreSQL's `length(text)` counts it: code points, so an emoji is one, not two. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
