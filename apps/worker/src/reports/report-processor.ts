import { createHash } from "node:crypto";
import { createDb, type Database } from "@balansity/db";
import { emailTemplateVariableSchemas } from "@balansity/emails/catalog";
import { InvalidMessageError, type QueueMessage, QueueRpcError } from "@balansity/queues";
import {
  chooseReportResults,
  type RenderedReport,
  type ReportInput,
  ReportResultsError,
  ReportStorageError,
  type ReportStore,
} from "@balansity/reports";
import { type Kysely, sql } from "kysely";
import type pg from "pg";
import { PermanentError, RetryableError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import { loadReportSubject } from "./load-report-subject.ts";
import { queueReportReadyEmail } from "./queue-report-ready-email.ts";
import { recordReport } from "./record-report.ts";

export interface ReportProcessorOptions {
  readonly db: pg.Pool;
  readonly store: ReportStore;
  /** Base URL of the web app, shown in the email's footer. */
  readonly appUrl: string;
  /** How long the link in the email works. */
  readonly linkTtlSeconds: number;
  /** A larger PDF is not attached (the email has the link only). */
  readonly attachmentMaxBytes: number;
  /** Defaults to the PDF renderer of @balansity/reports, loaded with the first report. */
  readonly render?: (input: ReportInput) => Promise<RenderedReport>;
}

/**
 * report_generation_queue: loads the completed checkup and its owner, chooses its results
 * (@balansity/reports chooseReportResults: what the app saved when it fits the contract, else the
 * database's scorer where the kind has one, else a report without scores), renders the PDF, stores it, records it in public.reports, and queues the
 * report_ready email (signed link, the PDF attached up to a size) plus the report_generated event.
 *
 *   scored results that do not fit            PermanentError report_results_invalid, naming the field (DLQ)
 *   no scorer, nothing valid saved            a report without scores (not a failure)
 *   storage down                              RetryableError report_storage_failed (backoff; nothing lost)
 *
 * One job, one report, one email: the object path and the email's key come from the job's
 * idempotency key (`<user_id>/<assessment_id>/<sha256(key)[0:16]>.pdf`, `report_ready:<key>`), so a
 * retried job replaces its object, updates its row and never sends a second email.
 */
export class ReportProcessor implements Processor<"report_generation_queue"> {
  readonly queue = "report_generation_queue" as const;
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #store: ReportStore;
  readonly #render: (input: ReportInput) => Promise<RenderedReport>;
  readonly #appUrl: string;
  readonly #linkTtlSeconds: number;
  readonly #attachmentMaxBytes: number;

  constructor(options: ReportProcessorOptions) {
    this.#pool = options.db;
    this.#db = createDb(options.db);
    this.#store = options.store;
    this.#render = options.render ?? renderWithReportPdf;
    this.#appUrl = options.appUrl;
    this.#linkTtlSeconds = options.linkTtlSeconds;
    this.#attachmentMaxBytes = options.attachmentMaxBytes;
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

    let report: RenderedReport;
    try {
      const chosen = await chooseReportResults(assessment.kind, assessment.results, () =>
        scoreAnswers(this.#db, assessment.kind, assessment.answers),
      );
      if (chosen.source !== "saved") {
        context.logger.info(
          {
            assessment_id: assessment.id,
            kind: assessment.kind,
            results: chosen.source,
            saved_problem: chosen.savedProblem,
          },
          chosen.source === "scored" ? "report from the scored answers" : "report without scores",
        );
      }
      report = await this.#render({
        assessment: {
          id: assessment.id,
          kind: assessment.kind,
          title: assessment.title,
          results: chosen.results,
          completedAt: assessment.completedAt,
        },
        userName: subject.profile.fullName,
        locale: subject.locale,
        timezone: subject.timezone,
      });
    } catch (error) {
      if (error instanceof ReportResultsError) {
        throw new PermanentError(error.code, `assessment ${assessment.id}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }

    const path = `${assessment.userId}/${assessment.id}/${digest(message.idempotency_key).slice(0, 16)}.pdf`;
    const signed = await this.#storage(async () => {
      await this.#store.put(path, report.body, report.contentType);
      return this.#store.signedUrl(path, this.#linkTtlSeconds);
    });
    await recordReport(this.#db, {
      assessmentId: assessment.id,
      userId: assessment.userId,
      storagePath: path,
      sizeBytes: report.body.byteLength,
      sha256: digest(report.body),
      rendererVersion: report.rendererVersion,
    });

    const attached = report.body.byteLength <= this.#attachmentMaxBytes;
    const variables = emailTemplateVariableSchemas.report_ready.safeParse({
      user_name: subject.profile.fullName,
      app_url: this.#appUrl,
      assessment_id: assessment.id,
      assessment_title: assessment.title,
      report_url: signed.url,
      expires_at: signed.expiresAt.toISOString(),
      attachment: attached
        ? {
            file_name: report.fileName,
            content_type: report.contentType,
            storage_path: path,
            size_bytes: report.body.byteLength,
          }
        : null,
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
        jobKey: message.idempotency_key,
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
          `the report of assessment ${assessment.id} is stored at ${path}, but its email was refused: ${
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
        storage: this.#store.kind,
        storage_path: path,
        bytes: report.body.byteLength,
        attached,
        email_msg_id: emailMsgId,
      },
      emailMsgId === null
        ? "report stored; its email was already queued or sent"
        : "report stored and email queued",
    );
  }

  /** Storage errors are worth retrying: the job comes back after its backoff and stores again. */
  async #storage<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ReportStorageError)
        throw new RetryableError(error.code, error.message, { cause: error });
      throw error;
    }
  }
}

/** The database's scorer (public.score_assessment, 040): null when nothing is answered. */
async function scoreAnswers(db: Kysely<Database>, kind: string, answers: unknown): Promise<unknown> {
  const { rows } = await sql<{
    results: unknown;
  }>`select public.score_assessment(${kind}, ${JSON.stringify(answers ?? {})}::jsonb) as results`.execute(db);
  return rows[0]?.results ?? null;
}

function digest(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The PDF renderer, loaded on the first report rather than at start-up: react-pdf, its layout engine
 * and the fonts are about 50 MB of a worker's memory, which a worker that sends email but never
 * renders a report does without (the bundle defers a dynamic import's evaluation the same way).
 */
async function renderWithReportPdf(input: ReportInput): Promise<RenderedReport> {
  const { renderReportPdf } = await import("@balansity/reports/pdf");
  return renderReportPdf(input);
}
