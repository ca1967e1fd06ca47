// Percentiles and a fixed-rate schedule for latency runs.

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of the samples (milliseconds in, milliseconds out). */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0)
    return { count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    count: sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean,
  };
}

/**
 * Calls `send(i)` for i = 0 … count-1 at `ratePerSecond`, each at its scheduled time (start + i/rate),
 * without waiting for the previous send to finish, so a slow send does not delay the next one. Resolves
 * when every send has settled; rejects with the first error. Also returns how late sends started
 * (the achieved rate).
 */
export async function atFixedRate(
  count: number,
  ratePerSecond: number,
  send: (index: number) => Promise<void>,
): Promise<{ readonly lateness: LatencySummary }> {
  const intervalMs = 1000 / ratePerSecond;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  const lateness: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    // setTimeout is coarse (about 1 ms); the latency is measured from the real send time anyway.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lateness.push(performance.now() - due);
    pending.push(send(index));
  }
  await Promise.all(pending);
  return { lateness: summarize(lateness) };
}

/** `12.3` for numbers, `–` for NaN. */
export function ms(value: number, digits = 1): string {
  return Number.isNaN(value) ? "–" : value.toFixed(digits);
}
