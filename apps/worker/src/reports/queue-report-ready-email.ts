import type { Database } from "@balansity/db";
import type { EmailTemplateVariables } from "@balansity/emails/catalog";
import { queueEmailTask, trackEvent } from "@balansity/queues";
import { hasQueuedMessage, type Queryable } from "@balansity/queues/consumer";
import { pgTransport } from "@balansity/queues/pg";
import type { Kysely } from "kysely";

export interface ReportReadyEmail {
  readonly to: string;
  readonly userId: string;
  readonly assessmentId: string;
  readonly locale: "ru" | "en";
  readonly timezone: string;
  readonly variables: EmailTemplateVariables<"report_ready">;
}

/** The idempotency key of a checkup's report_ready email: one such email per checkup, ever. */
export function reportReadyKey(assessmentId: string): string {
  return `report_ready:${assessmentId}`;
}

/**
 * Queues the report_ready email (once per checkup: key `report_ready:<assessment_id>`) and the
 * report_generated analytics event. Returns the email's msg_id, or null when that email was already
 * queued or sent.
 *
 * The email is skipped when its key is waiting in email_queue or was sent (or is being sent) by the
 * email processor. The processor's delivery log (automation.email_deliveries, unique key) stays the
 * backstop for the one race this check leaves open: two jobs for the same checkup at the same moment.
 * A failure after the email is queued is harmless on retry: the email is then found waiting, and the
 * event's idempotency key counts it once.
 */
export async function queueReportReadyEmail(
  db: Kysely<Database>,
  q: Queryable,
  email: ReportReadyEmail,
): Promise<string | null> {
  const key = reportReadyKey(email.assessmentId);
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
    idempotency_key: `analytics:report_generated:${email.assessmentId}`,
  });
  return emailMsgId;
}
