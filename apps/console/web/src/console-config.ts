import { z } from "zod";

/** The console's settings, all public (they are in the bundle): where the API is and its anon key. */
export interface ConsoleConfig {
  readonly supabaseUrl: string;
  readonly anonKey: string;
}

const configSchema = z.object({
  VITE_SUPABASE_URL: z.url({
    protocol: /^https?$/,
    error: "must be the project URL (https://<ref>.supabase.co)",
  }),
  VITE_SUPABASE_ANON_KEY: z
    .string()
    .regex(/^[\w-]+\.[\w-]+\.[\w-]+$|^sb_publishable_\w+$/, "must be the project's anon (publishable) key"),
});

export type LoadedConsoleConfig =
  | { readonly ok: true; readonly config: ConsoleConfig }
  /** Every missing or invalid setting, each naming its variable. */
  | { readonly ok: false; readonly problems: readonly string[] };

/** Reads the build-time settings; lists every problem at once. */
export function loadConsoleConfig(env: Record<string, unknown>): LoadedConsoleConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    return { ok: false, problems };
  }
  const config = { supabaseUrl: parsed.data.VITE_SUPABASE_URL, anonKey: parsed.data.VITE_SUPABASE_ANON_KEY };
  return { ok: true, config: Object.freeze(config) };
}
