/** Retry delay policy: exponential from `baseSeconds`, capped, with jitter so retries do not stampede. */
export interface BackoffPolicy {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 2, maxSeconds: 600 };

/**
 * Seconds to hide a message after its `attempt`-th failure: base·2^(attempt-1), capped, then a random
 * point in its upper half ("equal jitter"), so it never retries much sooner than planned.
 */
export function backoffSeconds(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(exponential / 2 + random() * (exponential / 2)));
}
