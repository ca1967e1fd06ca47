import { createHash } from "node:crypto";
import type { Database } from "@balansity/db";
import { EmailTemplateError, type RenderedEmail, renderEmail } from "@balansity/emails";
import { emailPriorities, type QueueMessage } from "@balansity/queues";
import { readUnderBudget, type SendBudget } from "@balansity/queues/consumer";
import type { Kysely } from "kysely";
import type { SmtpConfig } from "../config/worker-config.ts";
import { PermanentError, RetryableError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import type { ReadPolicy } from "../consumer/read-policy.ts";
import type { AttachmentSource } from "../reports/report-attachments.ts";
import { classifySmtpError } from "./classify-smtp-error.ts";
import { EmailDeliveries } from "./email-deliveries.ts";
import type { MailTransport, SentEmail } from "./mail-transport.ts";

/**
 * email_queue: render the template in the user's language and time zone, then send it over SMTP,
 * at most once per idempotency key once the server has accepted it (automation.email_deliveries).
 * The Message-ID is derived from the key, so even the one unavoidable duplicate (the worker dies
 * between the server's "250 OK" and our record of it) carries the same Message-ID.
 */
export class EmailProcessor implements Processor<"email_queue"> {
  readonly queue = "email_queue" as const;
  /**
   * High-priority emails (password resets, say) are read before the rest. Under a send budget
   * (SMTP_SEND_LIMIT) no more are read than the budget has room for, by tier and fair share.
   */
  readonly readPolicy: ReadPolicy;
  /** While the SMTP server is away the queue pauses; EHLO (and AUTH) tell when it is back. */
  readonly probes = { smtp: () => this.#transport.verify() };
  readonly #deliveries: EmailDeliveries;
  readonly #transport: MailTransport;
  readonly #smtp: SmtpConfig;
  readonly #leaseSeconds: number;
  readonly #attachments: AttachmentSource | undefined;

  constructor(options: {
    db: Kysely<Database>;
    /** Where the email goes (mail-transport.ts): the SMTP thread unless SMTP_THREAD=off. */
    transport: MailTransport;
    smtp: SmtpConfig;
    leaseSeconds: number;
    /** Where files a template attaches by reference are read from (the report store). */
    attachments?: AttachmentSource;
    /** The send budget shared with every replica (send-budget.ts); none when undefined. */
    budget?: SendBudget | undefined;
  }) {
    const budget = options.budget;
    this.readPolicy = budget
      ? {
          read: async (db, read) => {
            const { records, nextSlotAt } = await readUnderBudget(db, budget, read);
            return { records, retryAt: nextSlotAt };
          },
        }
      : { first: { priority: emailPriorities.high } };
    this.#deliveries = new EmailDeliveries(options.db);
    this.#transport = options.transport;
    this.#smtp = options.smtp;
    this.#leaseSeconds = options.leaseSeconds;
    this.#attachments = options.attachments;
  }

  async process(message: QueueMessage<"email_queue">, context: ProcessorContext): Promise<void> {
    const rendered = await this.#render(message);
    const attachments = await this.#loadAttachments(rendered.attachments ?? []);
    const key = message.idempotency_key;
    const claim = await this.#deliveries.claim({
      idempotencyKey: key,
      msgId: context.msgId,
      template: message.template,
      recipient: message.to,
      leaseSeconds: this.#leaseSeconds,
    });
    if (claim === "already_sent") {
      context.logger.info(
        { template: message.template },
        "email already sent for this idempotency key; skipped",
      );
      return;
    }
    if (claim === "in_progress") {
      throw new RetryableError("delivery_in_progress", "another worker is sending this email right now");
    }
    // A claim lasts one lease; a send that takes longer keeps it, so no second worker sends meanwhile.
    const renew = setInterval(
      () => {
        this.#deliveries
          .renewLease(key, this.#leaseSeconds)
          .catch((error: unknown) =>
            context.logger.warn({ err: error }, "could not renew the delivery lease"),
          );
      },
      (this.#leaseSeconds * 1000) / 2,
    );
    let info: SentEmail;
    try {
      info = await this.#transport.sendMail(
        {
          from: { name: this.#smtp.fromName, address: this.#smtp.from },
          to: message.to,
          subject: message.subject ?? rendered.subject,
          html: rendered.html,
          text: rendered.text,
          messageId: messageIdFor(key, this.#smtp.from),
          headers: { "Content-Language": message.locale },
          ...(attachments.length > 0 ? { attachments } : {}),
        },
        { idempotencyKey: key },
      );
    } catch (error) {
      const classified = classifySmtpError(error);
      await this.#deliveries.markFailed(key, `${classified.code}: ${classified.message}`);
      throw classified;
    } finally {
      clearInterval(renew);
    }
    // The SMTP thread records the acceptance itself as soon as the server replies; otherwise (no thread,
    // or its record failed) it is recorded here.
    if (!info.recorded) await this.#recordSent(key, info, context);
    context.logger.info(
      { template: message.template, smtp_message_id: info.messageId },
      "email accepted by SMTP",
    );
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #render(message: QueueMessage<"email_queue">) {
    try {
      return await renderEmail({
        template: message.template,
        locale: message.locale,
        timezone: message.timezone,
        variables: message.variables as never,
      });
    } catch (error) {
      if (error instanceof EmailTemplateError)
        throw new PermanentError(error.code, error.message, { cause: error });
      throw error;
    }
  }

  /** Reads the files a template attaches by reference (before the delivery is claimed). */
  async #loadAttachments(refs: NonNullable<RenderedEmail["attachments"]>) {
    if (refs.length === 0) return [];
    const source = this.#attachments;
    if (!source) {
      throw new PermanentError(
        "attachments_unavailable",
        "this worker has no store to read attachments from",
      );
    }
    return Promise.all(
      refs.map(async (ref) => ({
        filename: ref.file_name,
        contentType: ref.content_type,
        content: Buffer.from(await source.load(ref.storage_path)),
      })),
    );
  }

  /**
   * The server has the email: try hard to record that, since a lost record means a resend later. A
   * database restart is ridden out (up to RECORD_SENT_PATIENCE_MS, or until shutdown's deadline).
   */
  async #recordSent(key: string, info: SentEmail, context: ProcessorContext) {
    const deadline = Date.now() + RECORD_SENT_PATIENCE_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#deliveries.markSent(key, info);
        return;
      } catch (error) {
        if (Date.now() > deadline || context.signal.aborted) throw error;
        if (attempt === 1) context.logger.warn({ err: error }, "could not record the delivery; trying again");
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
      }
    }
  }
}

const RECORD_SENT_PATIENCE_MS = 60_000;

/** Stable per idempotency key: `<sha256(key)[0:32]@domain-of-from>`. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const hash = createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32);
  const domain = from.split("@")[1] ?? "balansity.local";
  return `<${hash}@${domain}>`;
}
