// Other work on a shared 2-core machine skews every figure: wait (bounded) for it to calm down, and
// say what the load was.
import { availableParallelism, loadavg } from "node:os";

/** The 1-minute load average per CPU, e.g. 0.35. */
export function loadPerCpu(): number {
  return (loadavg()[0] ?? 0) / availableParallelism();
}

/**
 * Waits until the 1-minute load average per CPU is at most `maxLoadPerCpu`, or `maxWaitSeconds` have
 * passed; returns the load it starts with (the benchmark runs either way, with the load reported).
 */
export async function waitForQuietMachine(maxLoadPerCpu: number, maxWaitSeconds: number): Promise<number> {
  const deadline = Date.now() + maxWaitSeconds * 1000;
  let announced = false;
  while (loadPerCpu() > maxLoadPerCpu && Date.now() < deadline) {
    if (!announced) {
      process.stdout.write(
        `  waiting up to ${maxWaitSeconds} s for the load (${loadPerCpu().toFixed(2)} per CPU) to fall to ${maxLoadPerCpu}\n`,
      );
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  return loadPerCpu();
}
