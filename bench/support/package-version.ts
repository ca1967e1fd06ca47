// The installed version of a dependency, for the figures' headings.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Reads `<name>/package.json` as resolved from bench/ (works for packages without an exports map). */
export function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}
