import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { repoRoot } from "./paths.ts";

/** supabase/functions: the Edge Functions, run with Deno as Supabase runs them. */
export const functionsDir = join(repoRoot, "supabase", "functions");

/**
 * The Deno binary the npm package `@deno/linux-x64-glibc` ships (no download at run time). Other
 * platforms: set DENO_BIN to a `deno` of your own.
 */
export function denoBinary(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.DENO_BIN) return env.DENO_BIN;
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("@deno/linux-x64-glibc/package.json")), "deno");
  } catch (error) {
    throw new Error(
      `no Deno binary: @deno/linux-x64-glibc is not installed for ${process.platform}-${process.arch} (pnpm install on linux x64, or set DENO_BIN)`,
      { cause: error },
    );
  }
}

/**
 * The environment Deno runs in here: its module cache inside the repository's ignored
 * `node_modules/.cache/deno` (not ~/.cache), and the repository's package.json ignored (the
 * functions import `npm:` specifiers the way Supabase resolves them; `supabase/functions/deno.json`
 * says so too).
 */
export function denoEnvironment(
  base: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string | undefined> {
  const denoDir = base.DENO_DIR ?? join(repoRoot, "node_modules", ".cache", "deno");
  mkdirSync(denoDir, { recursive: true });
  return { ...base, DENO_DIR: denoDir, DENO_NO_PACKAGE_JSON: "1", DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
}
