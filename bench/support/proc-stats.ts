// What Linux says about a process: CPU time used, resident memory now and at its peak (/proc).
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds the process has used so far; 0 when it is gone. With `reapedChildren`,
 * plus what its children that have exited and been waited for used (a postmaster's ended backends).
 */
export function cpuSeconds(pid: number, { reapedChildren = false } = {}): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  const children = reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0;
  return (user + system + children) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used by a process tree rooted at `root` (itself, its live children, its reaped
 * children) between `start()` and `stop()`. Children that start and end in between are counted
 * through the root's reaped-children time.
 */
export function treeCpuMeter(root: number): { stop(): number } {
  const snapshot = () => {
    const seconds = new Map<number, number>();
    for (const pid of childPids(root)) seconds.set(pid, cpuSeconds(pid, { reapedChildren: pid === root }));
    return seconds;
  };
  const before = snapshot();
  return {
    stop() {
      let total = 0;
      for (const [pid, seconds] of snapshot()) total += seconds - (before.get(pid) ?? 0);
      return total;
    },
  };
}

/** Resident set size now (VmRSS) and its peak over the process's life (VmHWM), in bytes. */
export function memoryStatus(pid: number): { rss: number; peakRss: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") * 1024, peakRss: kib("VmHWM") * 1024 };
}

/** The direct children of a process (e.g. the backends of a postmaster), itself first. */
export function childPids(parent: number): number[] {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8");
    return [parent, ...children.split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [parent];
  }
}
