import type { Logger } from "pino";

/**
 * A circuit breaker for one transport the processors depend on (the database, SMTP, a payment
 * provider). An outage of a transport is not a failure of the messages that met it:
 *
 *   CLOSED --trip(error)--> OPEN --probe() resolves--> CLOSED
 *                            └── probe() rejects: probe again after a capped, growing delay
 *
 * While OPEN the consumers that depend on the transport stop reading and starting messages (they
 * spend no attempts), and the breaker probes the transport itself — never by processing a message —
 * until it answers. The pause is logged once when it starts and once when it ends, shown in
 * /readyz and as a metric.
 */
export type BreakerState = "closed" | "open";

export interface TransportBreakerOptions {
  /** `database`, `smtp`, `payment_provider`: used in logs, metrics and /readyz. */
  readonly name: string;
  /** Resolves when the transport works again (a `select 1`, an SMTP EHLO, …). */
  readonly probe: () => Promise<void>;
  readonly logger: Logger;
  /** First delay between probes; it doubles up to `maxProbeDelayMs`. */
  readonly minProbeDelayMs?: number;
  readonly maxProbeDelayMs?: number;
  readonly onStateChange?: (state: BreakerState) => void;
}

export class TransportBreaker {
  readonly name: string;
  readonly #options: TransportBreakerOptions;
  #state: BreakerState = "closed";
  #openedAt = 0;
  #probes = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #waiters: (() => void)[] = [];
  #lastError = "";

  constructor(options: TransportBreakerOptions) {
    this.name = options.name;
    this.#options = options;
  }

  get state(): BreakerState {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** The transport failed in a way no message can fix: pause its consumers and start probing. */
  trip(error: unknown): void {
    if (this.#stopped || this.#state === "open") return;
    this.#state = "open";
    this.#openedAt = performance.now();
    this.#probes = 0;
    this.#lastError = describe(error);
    this.#options.logger.warn(
      { transport: this.name, err: { message: this.#lastError } },
      `${this.name} is unreachable: pausing the queues that use it and probing until it answers (messages keep their attempts)`,
    );
    this.#options.onStateChange?.("open");
    this.#schedule();
  }

  /** Resolves at once when closed, else when the transport is back (or the breaker is stopped). */
  whenClosed(): Promise<void> {
    if (this.#state === "closed" || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops probing (worker shutdown) and releases everyone waiting. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#release();
  }

  #schedule(): void {
    const min = this.#options.minProbeDelayMs ?? 500;
    const max = this.#options.maxProbeDelayMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.#probes);
    this.#timer = setTimeout(() => void this.#probe(), delay);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    this.#probes += 1;
    try {
      await this.#options.probe();
    } catch (error) {
      const message = describe(error);
      // One line per probe at debug; a change of cause is worth a warning.
      if (message !== this.#lastError) {
        this.#lastError = message;
        this.#options.logger.warn(
          { transport: this.name, err: { message } },
          `${this.name} still unreachable`,
        );
      } else {
        this.#options.logger.debug({ transport: this.name, probes: this.#probes }, "probe failed");
      }
      if (!this.#stopped) this.#schedule();
      return;
    }
    if (this.#stopped) return;
    this.#state = "closed";
    this.#options.logger.info(
      {
        transport: this.name,
        paused_ms: Math.round(performance.now() - this.#openedAt),
        probes: this.#probes,
      },
      `${this.name} answers again: resuming`,
    );
    this.#options.onStateChange?.("closed");
    this.#release();
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
