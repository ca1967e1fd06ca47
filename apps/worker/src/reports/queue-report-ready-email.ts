import type { EmailTemplateVariables } from "@balansity/emails/catalog";
import type { Queryable } from "@balansity/queues/consumer";

export interface ReportReadyEmail {
  readonly to: string;
  readonly userId: string;
  readonly assessmentId: string;
  readonly locale: "ru" | "en";
  readonly timezone: string;
  readonly variables: EmailTemplateVariables<"report_ready">;
}

// One statement: the report_ready email unless one with the same key is already waiting in
// email_queue or was sent (or is being sent) by the email processor, and the report_generated event.
// The email processor's delivery log (automation.email_deliveries, unique key) stays the backstop for
// the one race this check leaves open: two jobs for the same checkup at the same moment.
const QUEUE_REPORT_READY = `
select
  case
    when not exists (
      select from automation.email_deliveries d where d.idempotency_key = $5::text and d.status <> 'failed'
    ) and not exists (
      select from pgmq.q_email_queue q where q.message ->> 'idempotency_key' = $5::text
    )
    then public.queue_email_task(
      "to" => $1::text,
      subject => null,
      template => 'report_ready',
      variables => $2::jsonb,
      priority => 0,
      locale => $3::text,
      timezone => $4::text,
      idempotency_key => $5::text,
      user_id => $6::uuid
    )
  end as email_msg_id,
  public.track_event(
    event => 'report_generated',
    entity_id => $7::text,
    user_id => $6::uuid,
    properties => pg_catalog.jsonb_build_object('report_type', 'pdf'),
    occurred_at => pg_catalog.now(),
    idempotency_key => 'analytics:report_generated:' || $7::text
  ) as event_msg_id`;

/** The idempotency key of a checkup's report_ready email: one such email per checkup, ever. */
export function reportReadyKey(assessmentId: string): string {
  return `report_ready:${assessmentId}`;
}

/**
 * Queues the report_ready email (once per checkup: key `report_ready:<assessment_id>`) and the
 * report_generated analytics event. Returns the email's msg_id, or null when that email was already
 * queued or sent.
 */
export async function queueReportReadyEmail(db: Queryable, email: ReportReadyEmail): Promise<string | null> {
  const result = await db.query(QUEUE_REPORT_READY, [
    email.to,
    JSON.stringify(email.variables),
    email.locale,
    email.timezone,
    reportReadyKey(email.assessmentId),
    email.userId,
    email.assessmentId,
  ]);
  const row = result.rows[0] as { email_msg_id: string | null } | undefined;
  return row?.email_msg_id ?? null;
}
