import { createDb, type Database } from "@balansity/db";
import {
  LegacyMessageError,
  type LegacyQueueMessage,
  type QueueMessage,
  type QueueName,
  queueReportGeneration,
  upgradeLegacyEvent,
  upgradeLegacyPayment,
  upgradeLegacyReport,
} from "@balansity/queues";
import { hasQueuedMessage } from "@balansity/queues/consumer";
import { pgTransport } from "@balansity/queues/pg";
import type { Kysely } from "kysely";
import type pg from "pg";
import { PermanentError } from "../consumer/errors.ts";
import { completeLegacyEmail } from "./complete-legacy-email.ts";

/** What the completer knows about the message it completes. */
export interface LegacyContext {
  readonly msgId: string;
  readonly enqueuedAt: Date;
}

/**
 * Turns a seed-era message (version 0 of the catalog: `legacyQueueCatalog` of @balansity/queues)
 * into the version-1 message the queue's processor handles like any other, keyed
 * `legacy:<queue>:<msg_id>`. Report and payment jobs need nothing more (their processors load the
 * rest); an event's name is mapped; an email is completed from the database (complete-legacy-email.ts).
 *
 * Resolves to null when the message was handed on instead: a seed-era `report_ready` email becomes a
 * report job, whose pipeline sends report_ready itself. Throws PermanentError (dead-letter queue)
 * naming what is missing when a message cannot be completed.
 */
export class LegacyCompleter {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;

  constructor(options: { readonly pool: pg.Pool }) {
    this.#pool = options.pool;
    this.#db = createDb(options.pool);
  }

  async complete<Q extends QueueName>(
    queue: Q,
    message: LegacyQueueMessage<Q>,
    context: LegacyContext,
  ): Promise<QueueMessage<Q> | null> {
    // Q is one queue at a time; the casts tell TypeScript which one each branch handles.
    switch (queue) {
      case "report_generation_queue":
        return upgradeLegacyReport(
          message as LegacyQueueMessage<"report_generation_queue">,
          context.msgId,
        ) as QueueMessage<Q>;
      case "payment_processing_queue":
        return upgradeLegacyPayment(
          message as LegacyQueueMessage<"payment_processing_queue">,
          context.msgId,
        ) as QueueMessage<Q>;
      case "analytics_queue":
        try {
          return upgradeLegacyEvent(
            message as LegacyQueueMessage<"analytics_queue">,
            context.msgId,
            context.enqueuedAt,
          ) as QueueMessage<Q>;
        } catch (error) {
          if (error instanceof LegacyMessageError) throw new PermanentError(error.code, error.message);
          throw error;
        }
      case "email_queue": {
        const completed = await completeLegacyEmail(
          this.#db,
          message as LegacyQueueMessage<"email_queue">,
          context,
        );
        if (completed.kind === "email") return completed.message as QueueMessage<Q>;
        await this.#queueReportJob(completed.message);
        return null;
      }
      default:
        throw new PermanentError("legacy_unknown_queue", `${String(queue)} has no seed-era shape`);
    }
  }

  /** Once per key: a redelivered report_ready finds its job still queued (or its report's email keyed by it). */
  async #queueReportJob(job: QueueMessage<"report_generation_queue">): Promise<void> {
    if (
      await hasQueuedMessage(this.#pool, "report_generation_queue", { idempotency_key: job.idempotency_key })
    )
      return;
    await queueReportGeneration(pgTransport(this.#pool), {
      assessment_id: job.assessment_id,
      user_id: job.user_id,
      report_type: job.report_type,
      idempotency_key: job.idempotency_key,
      requested_by: job.requested_by,
    });
  }
}
