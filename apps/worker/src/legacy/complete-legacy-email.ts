import type { Database } from "@balansity/db";
import type { EmailTemplateName } from "@balansity/emails/catalog";
import {
  type LegacyQueueMessage,
  legacyEmailPriority,
  legacyEmailTemplates,
  legacyIdempotencyKey,
  MESSAGE_VERSION,
  type QueueMessage,
} from "@balansity/queues";
import { type Kysely, sql } from "kysely";
import { PermanentError } from "../consumer/errors.ts";

/** What a seed-era email becomes: a version-1 email, or a report job that sends report_ready itself. */
export type CompletedLegacyEmail =
  | { readonly kind: "email"; readonly message: QueueMessage<"email_queue"> }
  | { readonly kind: "report"; readonly message: QueueMessage<"report_generation_queue"> };

interface Recipient {
  readonly id: string;
  readonly fullName: string | null;
  readonly locale: "ru" | "en";
  readonly timezone: string;
}

/** An appointment reminder is the 1-hour one when queued this close to the start. */
const ONE_HOUR_REMINDER_WINDOW_MS = 2 * 60 * 60 * 1000;

/**
 * Completes a seed-era email (`{to, subject, template, variables, priority}`) from the database:
 * the recipient's profile (name, language, zone) by the address in `to`, and what the template
 * shows about its checkup, appointment or payment by the id in `variables`. The seed-era subject is
 * not used (ours is in the recipient's language). A `report_ready` email becomes a report job for
 * the checkup (`variables.assessment_id`, else the recipient's latest completed one): the report
 * pipeline makes the PDF and sends report_ready with its link, keyed by this message.
 *
 * Throws PermanentError naming what is missing: an unknown template, no user with that address, an
 * id the template needs, a checkup / appointment / payment that does not exist.
 */
export async function completeLegacyEmail(
  db: Kysely<Database>,
  message: LegacyQueueMessage<"email_queue">,
  context: { readonly msgId: string; readonly enqueuedAt: Date },
): Promise<CompletedLegacyEmail> {
  const mapped = Object.hasOwn(legacyEmailTemplates, message.template)
    ? legacyEmailTemplates[message.template]
    : undefined;
  if (mapped === undefined) {
    throw new PermanentError(
      "legacy_unknown_template",
      `email_queue message: template "${message.template}" is unknown (expected one of ${Object.keys(legacyEmailTemplates).join(", ")})`,
    );
  }
  const recipient = await findRecipient(db, message.to);
  if (!recipient) {
    throw new PermanentError(
      "legacy_recipient_not_found",
      `email_queue message: no user has the address in "to" (a seed-era email takes the name, language and time zone from the recipient's profile)`,
    );
  }
  const given = message.variables ?? {};
  const key = legacyIdempotencyKey("email_queue", context.msgId);
  const userName = recipient.fullName ?? textOf(given.user_name) ?? textOf(given.name) ?? null;

  if (mapped === "report_ready") {
    const assessmentId = textOf(given.assessment_id) ?? (await latestCompletedCheckup(db, recipient.id));
    if (assessmentId === undefined) {
      throw new PermanentError(
        "legacy_assessment_missing",
        "email_queue message: report_ready has no variables.assessment_id and the recipient has no completed checkup",
      );
    }
    await loadAssessment(db, assessmentId, recipient.id);
    return {
      kind: "report",
      message: {
        version: MESSAGE_VERSION,
        idempotency_key: key,
        assessment_id: assessmentId,
        user_id: recipient.id,
        report_type: "pdf",
        requested_by: "service",
      },
    };
  }

  const { template, variables } = await completeVariables(db, mapped, given, recipient, context.enqueuedAt);
  return {
    kind: "email",
    message: {
      version: MESSAGE_VERSION,
      idempotency_key: key,
      to: message.to,
      template,
      subject: null,
      locale: recipient.locale,
      timezone: recipient.timezone,
      variables: { user_name: userName, ...variables },
      priority: legacyEmailPriority(message.priority),
      user_id: recipient.id,
    },
  };
}

async function completeVariables(
  db: Kysely<Database>,
  template: Exclude<EmailTemplateName | "appointment_reminder", "report_ready">,
  given: Readonly<Record<string, unknown>>,
  recipient: Recipient,
  enqueuedAt: Date,
): Promise<{ template: EmailTemplateName; variables: Record<string, unknown> }> {
  switch (template) {
    case "checkup_completed": {
      const assessment = await loadAssessment(db, requireId(given, "assessment_id", template), recipient.id);
      return {
        template,
        variables: {
          assessment_id: assessment.id,
          assessment_title: assessment.title,
          completed_at: assessment.completed_at?.toISOString() ?? null,
        },
      };
    }
    case "appointment_confirmation":
    case "appointment_reminder":
    case "appointment_reminder_24h":
    case "appointment_reminder_1h": {
      const id = requireId(given, "appointment_id", template);
      const appointment = await db
        .selectFrom("appointments")
        .select(["id", "user_id", "specialist_name", "starts_at", "ends_at", "meeting_url"])
        .where("id", "=", id)
        .executeTakeFirst();
      if (!appointment || appointment.user_id !== recipient.id) {
        throw new PermanentError(
          "legacy_appointment_not_found",
          `email_queue message: appointment ${id} (variables.appointment_id) does not exist for the recipient`,
        );
      }
      return {
        template:
          template === "appointment_reminder"
            ? whichReminder(given, appointment.starts_at, enqueuedAt)
            : template,
        variables: {
          appointment_id: appointment.id,
          starts_at: appointment.starts_at.toISOString(),
          ends_at: appointment.ends_at.toISOString(),
          consultant_name: appointment.specialist_name,
          meeting_url: appointment.meeting_url,
        },
      };
    }
    case "payment_succeeded":
    case "payment_failed": {
      const id = requireId(given, "payment_id", template);
      const payment = await db
        .selectFrom("payments")
        .select(["id", "user_id", "amount", "currency", "status", "failure_reason", "updated_at"])
        .where("id", "=", id)
        .executeTakeFirst();
      if (!payment || (payment.user_id !== null && payment.user_id !== recipient.id)) {
        throw new PermanentError(
          "legacy_payment_not_found",
          `email_queue message: payment ${id} (variables.payment_id) does not exist for the recipient`,
        );
      }
      const common = { payment_id: payment.id, amount: Number(payment.amount), currency: payment.currency };
      return template === "payment_succeeded"
        ? {
            template,
            variables: {
              ...common,
              paid_at: payment.status === "completed" ? payment.updated_at.toISOString() : null,
            },
          }
        : { template, variables: { ...common, failure_reason: payment.failure_reason } };
    }
  }
}

/** `variables.hours_before` / `reminder_type` when the message says; else by how close to the start it was queued. */
function whichReminder(
  given: Readonly<Record<string, unknown>>,
  startsAt: Date,
  enqueuedAt: Date,
): "appointment_reminder_24h" | "appointment_reminder_1h" {
  const said = String(given.reminder_type ?? given.hours_before ?? given.hours ?? "");
  if (said === "1" || said === "1h") return "appointment_reminder_1h";
  if (said === "24" || said === "24h") return "appointment_reminder_24h";
  return startsAt.getTime() - enqueuedAt.getTime() <= ONE_HOUR_REMINDER_WINDOW_MS
    ? "appointment_reminder_1h"
    : "appointment_reminder_24h";
}

async function findRecipient(db: Kysely<Database>, address: string): Promise<Recipient | undefined> {
  const row = await db
    .selectFrom("profiles")
    .select(["id", "full_name", "locale", "timezone"])
    .where(sql<string>`lower(email)`, "=", address.toLowerCase())
    .orderBy("created_at")
    .executeTakeFirst();
  if (!row) return undefined;
  // profiles.locale is constrained to these two by its check constraint.
  return {
    id: row.id,
    fullName: row.full_name,
    locale: row.locale === "en" ? "en" : "ru",
    timezone: row.timezone,
  };
}

async function loadAssessment(db: Kysely<Database>, id: string, userId: string) {
  const assessment = isUuid(id)
    ? await db
        .selectFrom("assessments")
        .select(["id", "user_id", "title", "completed_at"])
        .where("id", "=", id)
        .executeTakeFirst()
    : undefined;
  if (!assessment || assessment.user_id !== userId) {
    throw new PermanentError(
      "legacy_assessment_not_found",
      `email_queue message: checkup ${id} (variables.assessment_id) does not exist for the recipient`,
    );
  }
  return assessment;
}

async function latestCompletedCheckup(db: Kysely<Database>, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("assessments")
    .select("id")
    .where("user_id", "=", userId)
    .where("status", "=", "completed")
    .orderBy("completed_at", "desc")
    .executeTakeFirst();
  return row?.id;
}

function requireId(given: Readonly<Record<string, unknown>>, name: string, template: string): string {
  const id = textOf(given[name]);
  if (id === undefined || !isUuid(id)) {
    throw new PermanentError(
      "legacy_variable_missing",
      `email_queue message: template ${template} needs variables.${name} (a UUID) to be completed from the database`,
    );
  }
  return id;
}

function textOf(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
