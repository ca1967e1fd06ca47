import { createHash } from "node:crypto";
import type { Database } from "@balansity/db";
import { EmailTemplateError, type RenderedEmail, renderEmail } from "@balansity/emails";
import { emailPriorities, type QueueMessage } from "@balansity/queues";
import { readUnderBudget, type SendBudget } from "@balansity/queues/consumer";
import type { Kysely } from "kysely";
import { type Logger, pino } from "pino";
import { Counter, type Metric } from "prom-client";
import type { SmtpConfig, UnsubscribeConfig } from "../config/worker-config.ts";
import { PermanentError, RetryableError, TransportUnavailableError } from "../consumer/errors.ts";
import type { Processor, ProcessorContext } from "../consumer/processor.ts";
import type { ReadPolicy } from "../consumer/read-policy.ts";
import type { AttachmentSource } from "../reports/report-attachments.ts";
import { classifySmtpError } from "./classify-smtp-error.ts";
import { EmailDeliveries } from "./email-deliveries.ts";
import { listUnsubscribeHeaders, unsubscribeUrlFor } from "./list-unsubscribe.ts";
import type { MailTransport, OutgoingEmail, SentEmail } from "./mail-transport.ts";
import { SmtpFailover, type SmtpRoute } from "./smtp-failover.ts";
import { isTransactional, transactionalReadPolicy } from "./transactional-read.ts";

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
  readonly probes: Readonly<Record<string, () => Promise<void>>>;
  /** Emails the SMTP server accepted, by transport (`primary`, `fallback`). */
  readonly metrics: readonly Metric[];
  readonly #deliveries: EmailDeliveries;
  readonly #transport: MailTransport;
  readonly #smtp: SmtpConfig;
  readonly #leaseSeconds: number;
  readonly #attachments: AttachmentSource | undefined;
  readonly #unsubscribe: UnsubscribeConfig | undefined;
  readonly #fallback: { transport: MailTransport; smtp: SmtpConfig; failover: SmtpFailover } | undefined;
  readonly #sentSinceScrape: Record<SmtpRoute, number> = { primary: 0, fallback: 0 };

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
    /** Reminders carry a one-click unsubscribe link (list-unsubscribe.ts); none when undefined. */
    unsubscribe?: UnsubscribeConfig | undefined;
    /**
     * SMTP_FALLBACK_*: a second account for transactional email while the primary has been throttled
     * or down for `afterSeconds` (smtp-failover.ts). Its failures pause the queue as `smtp_fallback`.
     */
    fallback?: { transport: MailTransport; smtp: SmtpConfig; afterSeconds: number } | undefined;
    /** For the failover's lines (failing over, back to the primary). */
    logger?: Logger;
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
    this.#unsubscribe = options.unsubscribe;
    // Counted in plain numbers per email and added when scraped: no label hashing on the hot path.
    const sentSinceScrape = this.#sentSinceScrape;
    this.metrics = [
      new Counter({
        name: "balansity_emails_sent_total",
        help: "Emails the SMTP server accepted, by transport (primary, or the SMTP_FALLBACK_* account)",
        labelNames: ["transport"],
        registers: [],
        collect() {
          for (const transport of ["primary", "fallback"] as const) {
            if (sentSinceScrape[transport] > 0) this.inc({ transport }, sentSinceScrape[transport]);
            sentSinceScrape[transport] = 0;
          }
        },
      }),
    ];
    const fallback = options.fallback;
    if (!fallback) {
      this.probes = { smtp: () => this.#transport.verify() };
      return;
    }
    const failover = new SmtpFailover({
      afterMs: fallback.afterSeconds * 1000,
      maxPauseMs: options.smtp.throttleMaxPauseSeconds * 1000,
      logger: options.logger ?? pino({ level: "silent" }),
    });
    this.#fallback = { transport: fallback.transport, smtp: fallback.smtp, failover };
    this.probes = {
      // The primary's probe also tells the failover: answering ends it, failing keeps it going.
      smtp: () =>
        this.#transport.verify().then(
          () => failover.primaryWorks(),
          (error: unknown) => {
            failover.primaryFailed(error instanceof Error ? error.message : String(error));
            throw error;
          },
        ),
      smtp_fallback: () => fallback.transport.verify(),
    };
  }

  /**
   * While the primary's breaker is open and the failover is on, only transactional email is read
   * (it goes through the fallback); the rest stays in the queue for the primary.
   */
  whilePaused(transport: string): ReadPolicy | undefined {
    return transport === "smtp" && this.#fallback?.failover.active ? transactionalReadPolicy : undefined;
  }

  async process(message: QueueMessage<"email_queue">, context: ProcessorContext): Promise<void> {
    // Reminders only: shown in the footer and in the List-Unsubscribe headers.
    const unsubscribeUrl = unsubscribeUrlFor(this.#unsubscribe, message.template, message.user_id);
    const rendered = await this.#render(message, unsubscribeUrl);
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
    // The Message-ID is the primary From's whichever account sends: one email, one Message-ID.
    const email = (smtp: SmtpConfig): OutgoingEmail => ({
      from: { name: smtp.fromName, address: smtp.from },
      to: message.to,
      subject: message.subject ?? rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: messageIdFor(key, this.#smtp.from),
      headers: { "Content-Language": message.locale, ...listUnsubscribeHeaders(unsubscribeUrl) },
      ...(attachments.length > 0 ? { attachments } : {}),
    });
    let sent: { info: SentEmail; route: SmtpRoute };
    try {
      sent = await this.#send(email, isTransactional(message), key);
    } catch (error) {
      const classified =
        error instanceof RetryableError || error instanceof PermanentError ? error : classifySmtpError(error);
      await this.#deliveries.markFailed(key, `${classified.code}: ${classified.message}`);
      throw classified;
    } finally {
      clearInterval(renew);
    }
    const { info, route } = sent;
    this.#sentSinceScrape[route] += 1;
    // The SMTP thread records the acceptance itself as soon as the server replies; otherwise (no thread,
    // or its record failed) it is recorded here.
    if (!info.recorded) await this.#recordSent(key, info, route, context);
    context.logger.info(
      { template: message.template, smtp_message_id: info.messageId, transport: route },
      "email accepted by SMTP",
    );
  }

  /**
   * Through the primary; a transactional email goes through the fallback instead while the primary
   * has been throttled or down for SMTP_FALLBACK_AFTER (trying the primary first now and then, so its
   * recovery is seen). Errors come out classified (classifySmtpError).
   */
  async #send(
    email: (smtp: SmtpConfig) => OutgoingEmail,
    transactional: boolean,
    idempotencyKey: string,
  ): Promise<{ info: SentEmail; route: SmtpRoute }> {
    const fallback = this.#fallback;
    const failover = fallback?.failover;
    if (!fallback || !failover)
      return { info: await this.#primary(email(this.#smtp), idempotencyKey), route: "primary" };
    if (!transactional || failover.tryPrimaryFirst()) {
      try {
        const info = await this.#primary(email(this.#smtp), idempotencyKey);
        failover.primaryWorks();
        return { info, route: "primary" };
      } catch (error) {
        const primaryDown = error instanceof TransportUnavailableError && error.transport === "smtp";
        if (!primaryDown) throw error;
        failover.primaryFailed(error.message);
        if (!transactional || !failover.active) throw error;
      }
    }
    failover.usingFallback();
    try {
      const info = await fallback.transport.sendMail(email(fallback.smtp), {
        idempotencyKey,
        transport: "fallback",
      });
      return { info, route: "fallback" };
    } catch (error) {
      throw classifySmtpError(error, "smtp_fallback");
    }
  }

  async #primary(email: OutgoingEmail, idempotencyKey: string): Promise<SentEmail> {
    try {
      return await this.#transport.sendMail(email, { idempotencyKey, transport: "primary" });
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#transport.close(), this.#fallback?.transport.close()]);
  }

  async #render(message: QueueMessage<"email_queue">, unsubscribeUrl: string | undefined) {
    try {
      return await renderEmail({
        template: message.template,
        locale: message.locale,
        timezone: message.timezone,
        variables: message.variables as never,
        unsubscribeUrl,
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
  async #recordSent(key: string, info: SentEmail, route: SmtpRoute, context: ProcessorContext) {
    const deadline = Date.now() + RECORD_SENT_PATIENCE_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#deliveries.markSent(key, info, route);
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
