import type { Logger } from "pino";
import { ThrottledError } from "./errors.ts";

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
 *
 * Throttling (a ThrottledError: the transport works but refuses more for now) opens it too, but no
 * probe can tell when the provider's window reopens — a throttling SMTP server answers EHLO normally.
 * The breaker closes after a back-off instead (1 s, doubling while throttling goes on, up to
 * `maxThrottleDelayMs`) — or, when `throttleResumeAt` knows, when the window reopens — and the next
 * message is the probe: throttled again, it opens for longer.
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
  /** Longest pause for throttling (default 5 minutes). */
  readonly maxThrottleDelayMs?: number;
  /**
   * When the throttling provider's window reopens, if anything knows (the send budget: when its
   * oldest send leaves the window). A throttled pause then lasts until then, not less than the
   * back-off nor more than `maxThrottleDelayMs`.
   */
  readonly throttleResumeAt?: () => Promise<Date | undefined>;
}

const MIN_THROTTLE_DELAY_MS = 1_000;

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
  /** Throttled pauses in a row (one that starts soon after the last ended continues the run). */
  #throttles = 0;
  /** When the last throttled pause ended, and how long it was. */
  #throttleEndedAt = 0;
  #throttleDelayMs = 0;

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
    this.#options.onStateChange?.("open");
    if (error instanceof ThrottledError) {
      this.#throttle();
      return;
    }
    this.#options.logger.warn(
      { transport: this.name, err: { message: this.#lastError } },
      `${this.name} is unreachable: pausing the queues that use it and probing until it answers (messages keep their attempts)`,
    );
    this.#schedule();
  }

  /** Pauses for the throttling back-off, then closes without a probe: the next message tries. */
  #throttle(): void {
    const now = performance.now();
    // Throttled again within a few back-offs of the last pause: the provider's window is still shut.
    const continues = this.#throttles > 0 && now - this.#throttleEndedAt < 4 * this.#throttleDelayMs + 10_000;
    this.#throttles = continues ? this.#throttles + 1 : 1;
    const max = this.#options.maxThrottleDelayMs ?? 300_000;
    const backOff = Math.min(max, MIN_THROTTLE_DELAY_MS * 2 ** (this.#throttles - 1));
    const resumeAt = this.#options.throttleResumeAt;
    if (!resumeAt) {
      this.#pauseForThrottle(backOff, false);
      return;
    }
    // No answer (the database is away too): the back-off alone.
    void resumeAt()
      .then(
        (at) => (at ? at.getTime() - Date.now() : 0),
        () => 0,
      )
      .then((untilReset) => {
        if (this.#stopped) return;
        this.#pauseForThrottle(Math.min(max, Math.max(backOff, untilReset)), untilReset > backOff);
      });
  }

  #pauseForThrottle(delay: number, untilWindowResets: boolean): void {
    this.#throttleDelayMs = delay;
    this.#options.logger.warn(
      {
        transport: this.name,
        err: { message: this.#lastError },
        pause_ms: delay,
        until_window_resets: untilWindowResets,
        throttled_in_a_row: this.#throttles,
      },
      `${this.name} is throttling: pausing the queues that use it (messages keep their attempts)`,
    );
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      this.#throttleEndedAt = performance.now();
      this.#close(`${this.name}: the throttling pause is over, resuming`);
    }, delay);
    this.#timer.unref();
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
    this.#close();
  }

  #close(what = `${this.name} answers again: resuming`): void {
    this.#state = "closed";
    this.#options.logger.info(
      {
        transport: this.name,
        paused_ms: Math.round(performance.now() - this.#openedAt),
        probes: this.#probes,
      },
      what,
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
