// The installed version of a dependency, for the figures' headings.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Reads bench/node_modules/<name>/package.json directly: a package whose exports map leaves out
 * `./package.json` (graphile-worker 0.18) cannot be resolved through require.
 */
export function packageVersion(name: string): string {
  const file = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
