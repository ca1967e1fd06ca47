import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const CONSOLE_DIR = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Builds the console as `pnpm --filter @balansity/console build` does, with the given public
 * settings, into a fresh temporary folder; returns that folder.
 */
export async function buildConsole(settings: {
  readonly supabaseUrl: string;
  readonly anonKey: string;
}): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), "balansity-console-"));
  await build({
    configFile: join(CONSOLE_DIR, "vite.config.ts"),
    root: join(CONSOLE_DIR, "web"),
    logLevel: "warn",
    define: {
      "import.meta.env.VITE_SUPABASE_URL": JSON.stringify(settings.supabaseUrl),
      "import.meta.env.VITE_SUPABASE_ANON_KEY": JSON.stringify(settings.anonKey),
    },
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}
