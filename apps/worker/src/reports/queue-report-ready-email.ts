import type { Database } from "@balansity/db";
import type { EmailTemplateVariables } from "@balansity/emails/catalog";
import { queueEmailTask, trackEvent } from "@balansity/queues";
import { hasQueuedMessage, type Queryable } from "@balansity/queues/consumer";
import { pgTransport } from "@balansity/queues/pg";
import type { Kysely } from "kysely";

export interface ReportReadyEmail {
  /** The report job's idempotency key: the email's key and the event's are derived from it. */
  readonly jobKey: string;
  readonly to: string;
  readonly userId: string;
  readonly assessmentId: string;
  readonly locale: "ru" | "en";
  readonly timezone: string;
  readonly variables: EmailTemplateVariables<"report_ready">;
}

/**
 * The idempotency key of the report_ready email of one report job. The completion's job has one key
 * per checkup (`report:<assessment_id>:pdf`), so a checkup gets one such email however often its job
 * is retried; a user's request for a new report is a new job with a new key, hence a new email.
 */
export function reportReadyKey(jobKey: string): string {
  return `report_ready:${jobKey}`;
}

/**
 * Queues the report_ready email of a report job and the report_generated analytics event. Returns
 * the email's msg_id, or null when that email was already queued or sent.
 *
 * The email is skipped when its key is waiting in email_queue or was sent (or is being sent) by the
 * email processor. The processor's delivery log (automation.email_deliveries, unique key) stays the
 * backstop for the one race this check leaves open: two deliveries of the same job at once.
 */
export async function queueReportReadyEmail(
  db: Kysely<Database>,
  q: Queryable,
  email: ReportReadyEmail,
): Promise<string | null> {
  const key = reportReadyKey(email.jobKey);
  const transport = pgTransport(q);
  const delivered = await db
    .selectFrom("automation.email_deliveries")
    .select("status")
    .where("idempotency_key", "=", key)
    .where("status", "<>", "failed")
    .executeTakeFirst();
  let emailMsgId: string | null = null;
  if (!delivered && !(await hasQueuedMessage(q, "email_queue", { idempotency_key: key }))) {
    const { msgId } = await queueEmailTask(transport, {
      to: email.to,
      template: "report_ready",
      variables: email.variables,
      priority: 0,
      locale: email.locale,
      timezone: email.timezone,
      idempotency_key: key,
      user_id: email.userId,
    });
    emailMsgId = String(msgId);
  }
  await trackEvent(transport, {
    event: "report_generated",
    entity_id: email.assessmentId,
    user_id: email.userId,
    properties: { report_type: "pdf" },
    occurred_at: new Date(),
    idempotency_key: `analytics:report_generated:${email.jobKey}`,
  });
  return emailMsgId;
}
