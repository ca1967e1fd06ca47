import { createDb } from "@balansity/db";
import type { ReportStore } from "@balansity/reports";
import type pg from "pg";
import type { Logger } from "pino";
import { AnalyticsProcessor } from "./analytics/analytics-processor.ts";
import type { SmtpConfig, WorkerConfig } from "./config/worker-config.ts";
import type { Processor } from "./consumer/processor.ts";
import { EmailProcessor } from "./email/email-processor.ts";
import { sendBudgetFor } from "./email/send-budget.ts";
import { SmtpThread } from "./email/smtp-thread.ts";
import { inProcessTransport } from "./email/smtp-transport.ts";
import { PaymentProcessor } from "./payments/payment-processor.ts";
import type { PaymentProvider } from "./payments/payment-provider.ts";
import { UnconfiguredPaymentProvider } from "./payments/unconfigured-provider.ts";
import { YooKassaClient } from "./payments/yookassa-client.ts";
import { createReportStore } from "./reports/create-report-store.ts";
import { reportAttachments } from "./reports/report-attachments.ts";
import { ReportProcessor } from "./reports/report-processor.ts";

export interface BuildProcessorsOptions {
  readonly config: WorkerConfig;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Replaces the report store built from config.reports (tests). */
  readonly reportStore?: ReportStore;
  /** Replaces the YooKassa client built from config.payments (tests, another provider). */
  readonly paymentProvider?: PaymentProvider;
}

/**
 * The processors the worker runs, one per queue it consumes.
 *
 *   email_queue               always (SMTP from config.smtp, on a thread of its own unless SMTP_THREAD=off)
 *   payment_processing_queue  always; without PAYMENT_SHOP_ID / PAYMENT_SECRET_KEY every action is retried
 *                             (provider_not_configured): nothing is settled without the provider's word
 *   analytics_queue           always (micro-batched, up to the queue's concurrency per statement)
 *   report_generation_queue   always: PDF into the report store from config.reports (REPORT_STORAGE=fs|supabase);
 *                             the email processor attaches stored reports from the same store
 *
 * ### Examples
 * ```ts
 * const worker = await startWorker({ config, logger, processors: (pool) => buildProcessors({ config, pool, logger }) });
 * ```
 */
export async function buildProcessors(options: BuildProcessorsOptions): Promise<Processor[]> {
  const { config, pool, logger } = options;
  const processors: Processor[] = [];
  const db = createDb(pool);
  const reportStore = options.reportStore ?? createReportStore(config.reports);

  // The thread records each acceptance itself, on connections of its own (thread-sent-recorder.ts).
  const mailTransport = (smtp: SmtpConfig) =>
    smtp.thread ? new SmtpThread(smtp, { database: config.database }) : inProcessTransport(smtp);
  const fallback = config.smtpFallback;
  if (fallback) {
    logger.info(
      {
        queue: "email_queue",
        host: fallback.smtp.host,
        from: fallback.smtp.from,
        after_s: fallback.afterSeconds,
      },
      "SMTP fallback configured: transactional email goes through it while the primary is throttled or down for longer than SMTP_FALLBACK_AFTER",
    );
  }
  processors.push(
    new EmailProcessor({
      db,
      transport: mailTransport(config.smtp),
      ...(fallback
        ? {
            fallback: {
              transport: mailTransport(fallback.smtp),
              smtp: fallback.smtp,
              afterSeconds: fallback.afterSeconds,
            },
          }
        : {}),
      logger,
      smtp: config.smtp,
      // As long as the message stays hidden; the processor renews it while a send is slow.
      leaseSeconds: config.queues.email_queue.visibilityTimeoutSeconds,
      attachments: reportAttachments(reportStore),
      budget: sendBudgetFor(config.smtp),
      unsubscribe: config.unsubscribe,
    }),
  );

  processors.push(
    new PaymentProcessor({
      pool,
      provider: options.paymentProvider ?? paymentProviderFromConfig(config, logger),
    }),
  );

  const analytics = config.queues.analytics_queue;
  const maxBatchSize = Math.min(analytics.batchSize, analytics.concurrency);
  if (maxBatchSize < analytics.batchSize) {
    logger.warn(
      { queue: "analytics_queue", concurrency: analytics.concurrency, batch_size: analytics.batchSize },
      "analytics events are written at most <concurrency> per statement: raise QUEUE_ANALYTICS_QUEUE_CONCURRENCY to the batch size to batch them",
    );
  }
  processors.push(new AnalyticsProcessor({ db: pool, logger, maxBatchSize }));

  processors.push(
    new ReportProcessor({
      db: pool,
      store: reportStore,
      appUrl: config.appUrl,
      linkTtlSeconds: config.reports.linkTtlSeconds,
      attachmentMaxBytes: config.reports.attachmentMaxBytes,
    }),
  );
  logger.info(
    { queue: "report_generation_queue", storage: reportStore.kind },
    "checkup reports are rendered to PDF and kept in the report store",
  );

  return processors;
}

function paymentProviderFromConfig(config: WorkerConfig, logger: Logger): PaymentProvider {
  const { apiUrl, shopId, secretKey } = config.payments;
  if (shopId && secretKey) return new YooKassaClient({ apiUrl, shopId, secretKey });
  const missing = [
    shopId ? undefined : "PAYMENT_SHOP_ID",
    secretKey ? undefined : "PAYMENT_SECRET_KEY",
  ].filter((name): name is string => name !== undefined);
  logger.warn(
    { queue: "payment_processing_queue", missing },
    "YooKassa is not configured: payment messages (verify, completed, failed, refund) are retried until it is",
  );
  return new UnconfiguredPaymentProvider("yookassa", `set ${missing.join(" and ")}`);
}
