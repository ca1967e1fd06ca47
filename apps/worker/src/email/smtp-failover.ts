import type { Logger } from "pino";

/** Which SMTP account sent an email (automation.email_deliveries.transport, migration 056). */
export type SmtpRoute = "primary" | "fallback";

/**
 * While a failover is on, the primary is still tried this often by a transactional email (which goes
 * to the fallback when the primary refuses): a throttling primary's recovery is seen by a send, not a
 * probe, and transactional mail alone would otherwise never try it again.
 */
const PRIMARY_RETRY_MS = 10_000;

/**
 * How long the primary SMTP account has been throttled or unreachable, and so whether transactional
 * email goes through the fallback account (SMTP_FALLBACK_AFTER). The primary counts as impaired from
 * its first throttle reply or failed connection (a send or a breaker probe) until it accepts an email
 * or answers a probe. A failure long after the last one (more than `afterMs + maxPauseMs`: no send and
 * no probe met the primary in between) starts a new run rather than continuing a stale one.
 *
 * Logs once when email first goes through the fallback in a run and once when the primary is back.
 */
export class SmtpFailover {
  readonly afterMs: number;
  readonly #staleMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  #impairedSince: number | undefined;
  #lastFailureAt = 0;
  #lastPrimaryTry = 0;
  #failedOver = false;

  constructor(options: { afterMs: number; maxPauseMs: number; logger: Logger; now?: () => number }) {
    this.afterMs = options.afterMs;
    this.#staleMs = options.afterMs + options.maxPauseMs;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** The primary has been throttled or down for SMTP_FALLBACK_AFTER: transactional email may fail over. */
  get active(): boolean {
    return this.#impairedSince !== undefined && this.#now() - this.#impairedSince >= this.afterMs;
  }

  /** A transactional email while active: try the primary first (at most once per PRIMARY_RETRY_MS)? */
  tryPrimaryFirst(): boolean {
    if (!this.active) return true;
    const now = this.#now();
    if (now - this.#lastPrimaryTry < PRIMARY_RETRY_MS) return false;
    this.#lastPrimaryTry = now;
    return true;
  }

  /** The primary throttled or could not be reached. */
  primaryFailed(reason: string): void {
    const now = this.#now();
    if (this.#impairedSince === undefined || now - this.#lastFailureAt > this.#staleMs) {
      this.#impairedSince = now;
      this.#failedOver = false;
      this.#lastPrimaryTry = now;
      this.#logger.debug(
        { err: { message: reason } },
        "primary SMTP impaired: counting towards the failover",
      );
    }
    this.#lastFailureAt = now;
  }

  /** The primary accepted an email or answered a probe: everything goes back to it. */
  primaryWorks(): void {
    if (this.#impairedSince === undefined) return;
    const impairedMs = this.#now() - this.#impairedSince;
    this.#impairedSince = undefined;
    if (this.#failedOver) {
      this.#failedOver = false;
      this.#logger.info(
        { transport: "primary", impaired_ms: impairedMs },
        "primary SMTP works again: all email goes through it again",
      );
    }
  }

  /** An email is going through the fallback: logged on the first of a run. */
  usingFallback(): void {
    if (this.#failedOver) return;
    this.#failedOver = true;
    this.#logger.warn(
      {
        transport: "fallback",
        impaired_ms: this.#impairedSince === undefined ? 0 : this.#now() - this.#impairedSince,
        after_ms: this.afterMs,
      },
      "primary SMTP throttled or down for longer than SMTP_FALLBACK_AFTER: transactional email goes through the fallback, the rest waits",
    );
  }
}
