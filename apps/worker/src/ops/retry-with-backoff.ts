export interface RetryWithBackoffOptions {
  /** Ends the retries (the sleep between two tries too): the result is then undefined. */
  readonly signal: AbortSignal;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Told of each failed try and the wait before the next one (for a log line). */
  readonly onFailure: (error: unknown, retryInMs: number) => void;
}

/**
 * Calls `attempt` until it resolves, waiting `minDelayMs`, then twice as long each time up to
 * `maxDelayMs`, between tries. Resolves undefined when `signal` aborts first.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  options: RetryWithBackoffOptions,
): Promise<T | undefined> {
  const { signal } = options;
  for (let failures = 0; !signal.aborted; failures += 1) {
    try {
      return await attempt();
    } catch (error) {
      const delay = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** failures);
      options.onFailure(error, delay);
      await sleep(delay, signal);
    }
  }
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
