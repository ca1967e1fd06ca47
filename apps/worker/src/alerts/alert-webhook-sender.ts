import type pg from "pg";
import type { Logger } from "pino";

/** How long a claimed notification is ours: longer than one POST with its timeout. */
const LEASE_SECONDS = 60;
const BATCH = 10;

export interface AlertWebhookSender {
  stop(): Promise<void>;
}

interface ClaimedWebhook {
  readonly id: string;
  readonly url: string;
  readonly payload: unknown;
  readonly attempt: number;
}

/**
 * Where a webhook URL can be logged: its origin only. Slack-style URLs carry their secret in the path,
 * and a userinfo part is refused by the setting's check but would be dropped here too.
 */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Delivers the alert webhook outbox (automation.alert_webhooks, migration 052): every `pollMs`, claims
 * due notifications (public.alert_webhooks_claim, leased so replicas never send one twice at once),
 * POSTs each as JSON with a timeout, and reports the outcome (public.alert_webhook_result), which
 * schedules the retries. Any 2xx is delivered; anything else is retried later.
 */
export function startAlertWebhookSender(options: {
  pool: pg.Pool;
  logger: Logger;
  pollMs: number;
  timeoutMs: number;
}): AlertWebhookSender {
  const { pool, logger } = options;
  let stopped = false;
  let failing = false;
  let running: Promise<void> = Promise.resolve();

  const deliver = async (webhook: ClaimedWebhook): Promise<string | null> => {
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "balansity-worker" },
        body: JSON.stringify(webhook.payload),
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: "error",
      });
      await response.body?.cancel();
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      // Never the URL: fetch's messages can carry it.
      const name = error instanceof Error ? error.name : "Error";
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return typeof code === "string" ? `${name}: ${code}` : name;
    }
  };

  const round = async (): Promise<void> => {
    let claimed: ClaimedWebhook[];
    try {
      claimed = (
        await pool.query<ClaimedWebhook>("select * from public.alert_webhooks_claim($1, $2)", [
          BATCH,
          LEASE_SECONDS,
        ])
      ).rows;
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, "could not read the alert webhook outbox");
      failing = true;
      return;
    }
    await Promise.all(
      claimed.map(async (webhook) => {
        const problem = await deliver(webhook);
        const fields = {
          webhook: webhookOrigin(webhook.url),
          webhook_id: webhook.id,
          attempt: webhook.attempt,
        };
        if (problem === null) logger.info(fields, "alert webhook delivered");
        else logger.warn({ ...fields, error: problem }, "alert webhook not delivered; retried later");
        await pool.query("select public.alert_webhook_result($1, $2)", [webhook.id, problem]).catch(() => {
          // The lease runs out and the next claim sends it again.
        });
      }),
    );
  };

  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : round()));
  }, options.pollMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
