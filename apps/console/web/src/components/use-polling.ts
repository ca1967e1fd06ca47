import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  /** Loads again now (after an action changed the data). */
  reload(): void;
}

/**
 * Loads `load()` now and every `intervalMs` (0: once), while the page is shown. A slow answer never
 * overwrites a newer one. `deps` restart it (another queue picked, a new search).
 */
export function usePolling<T>(
  load: () => Promise<T>,
  intervalMs: number,
  deps: readonly unknown[],
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: deps and tick are the restart triggers
  useEffect(() => {
    const mine = ++generation.current;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current();
        if (generation.current !== mine) return;
        setData(value);
        setError(undefined);
      } catch (failure) {
        if (generation.current !== mine) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      } finally {
        if (generation.current === mine) {
          setLoading(false);
          if (intervalMs > 0) timer = setTimeout(run, intervalMs);
        }
      }
    };
    setLoading(true);
    void run();
    return () => {
      generation.current++;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick, intervalMs]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, reload };
}
