// The process-level variables a deployment of the worker sets beside its start flags, as its Dockerfile
// declares them (`ENV NAME=value` lines): the benchmarks start the worker with them, as shipped.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Read by libraries at process start (glibc), so they belong to the process, not to the worker's config. */
const PROCESS_VARIABLES = ["MALLOC_ARENA_MAX"];

export function shippedProcessEnv(workerDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  const dockerfile = readFileSync(join(workerDir, "Dockerfile"), "utf8");
  for (const [, name, value] of dockerfile.matchAll(/^ENV\s+([A-Z_]+)=(\S+)\s*$/gm)) {
    if (name && value && PROCESS_VARIABLES.includes(name)) env[name] = value;
  }
  return env;
}
