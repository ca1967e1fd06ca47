import { createDb, type Database } from "@balansity/db";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import { InvalidMessageError, type QueueMessage, QueueRpcError } from "@balansity/queues";
import type { Kysely } from "kysely";
import type pg from "pg";
import { PermanentError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import { loadReportSubject } from "./load-report-subject.ts";
import { queueReportReadyEmail } from "./queue-report-ready-email.ts";
import type { ReportRenderer } from "./report-renderer.ts";
import type { ReportStore } from "./report-store.ts";

export interface ReportProcessorOptions {
  readonly db: pg.Pool;
  readonly renderer: ReportRenderer;
  readonly store: ReportStore;
  /** Base URL of the web app, shown in the email's footer. */
  readonly appUrl: string;
}

/**
 * report_generation_queue: loads the completed checkup and its owner, renders the report, stores it
 * under a fixed key (`<user_id>/<assessment_id>/<file name>`, so a retry replaces rather than adds),
 * and queues the report_ready email with its URL plus the report_generated event.
 *
 * Idempotent: the email's key is `report_ready:<assessment_id>`; a second job for the same checkup
 * (a retry, or the user asking again) stores the report again but queues no second email while the
 * first is waiting or sent, and the email processor's delivery log drops any that slip through.
 */
export class ReportProcessor implements Processor<"report_generation_queue"> {
  readonly queue = "report_generation_queue" as const;
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #renderer: ReportRenderer;
  readonly #store: ReportStore;
  readonly #appUrl: string;

  constructor(options: ReportProcessorOptions) {
    this.#pool = options.db;
    this.#db = createDb(options.db);
    this.#renderer = options.renderer;
    this.#store = options.store;
    this.#appUrl = options.appUrl;
  }

  async process(message: QueueMessage<"report_generation_queue">, context: ProcessorContext): Promise<void> {
    const subject = await loadReportSubject(this.#db, message.assessment_id);
    if (!subject) {
      throw new PermanentError("assessment_not_found", `assessment ${message.assessment_id} does not exist`);
    }
    const { assessment } = subject;
    if (assessment.userId !== message.user_id) {
      throw new PermanentError(
        "assessment_user_mismatch",
        `assessment ${assessment.id} belongs to another user than the message's user_id ${message.user_id}`,
      );
    }
    if (subject.status !== "completed" || assessment.completedAt === null) {
      throw new PermanentError(
        "assessment_not_completed",
        `assessment ${assessment.id} is ${subject.status}; only a completed checkup has a report`,
      );
    }

    const report = await this.#renderer.render({
      assessment: { ...assessment, completedAt: assessment.completedAt },
      profile: subject.profile,
      locale: subject.locale,
      timezone: subject.timezone,
    });
    const key = `${assessment.userId}/${assessment.id}/${safeFileName(report.fileName)}`;
    const stored = await this.#store.put(key, report.body, report.contentType);

    const variables = emailTemplateVariableSchemas.report_ready.safeParse({
      user_name: subject.profile.fullName,
      app_url: this.#appUrl,
      assessment_id: assessment.id,
      assessment_title: assessment.title,
      report_url: stored.url,
      expires_at: stored.expiresAt?.toISOString() ?? null,
    });
    if (!variables.success) {
      const issues = variables.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
      throw new PermanentError(
        "report_email_invalid",
        `the report_ready email for assessment ${assessment.id} would be refused: ${issues.join("; ")}`,
      );
    }
    let emailMsgId: string | null;
    try {
      emailMsgId = await queueReportReadyEmail(this.#db, this.#pool, {
        to: subject.profile.email,
        userId: assessment.userId,
        assessmentId: assessment.id,
        locale: subject.locale,
        timezone: subject.timezone,
        variables: variables.data,
      });
    } catch (error) {
      // Refused before sending (InvalidMessageError) or by queue_email_task (22023: an address it cannot send to, say).
      if (
        error instanceof InvalidMessageError ||
        (error instanceof QueueRpcError && error.sqlState === "22023")
      ) {
        throw new PermanentError(
          "report_email_refused",
          `the report of assessment ${assessment.id} is stored at ${key}, but its email was refused: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
      throw error;
    }
    context.logger.info(
      {
        assessment_id: assessment.id,
        storage_key: key,
        bytes: report.body.byteLength,
        email_msg_id: emailMsgId,
      },
      emailMsgId === null
        ? "report stored; its email was already queued or sent"
        : "report stored and email queued",
    );
  }
}

/** The last path segment, without characters a storage key should not carry. */
function safeFileName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? "";
  const cleaned = base.replace(/[^\w.-]+/g, "_").replace(/^\.+/, "");
  return cleaned || "report";
}
