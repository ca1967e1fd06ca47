import { z } from "../_shared/deps.ts";
import { parseConfig } from "../_shared/function-config.ts";

const url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const schema = z.object({
  /** The HMAC key the worker signs the links with (the same value on both sides); never logged. */
  UNSUBSCRIBE_SECRET: z
    .string({ error: "is required (the worker's UNSUBSCRIBE_SECRET, at least 32 characters)" })
    .min(32, { error: "must be at least 32 characters" }),
  SUPABASE_URL: url,
  SUPABASE_SERVICE_ROLE_KEY: z
    .string({ error: "is required (Supabase sets it for every function)" })
    .min(1, { error: "must not be empty" }),
});

export interface UnsubscribeConfig {
  readonly secret: string;
  readonly supabaseUrl: string;
  readonly serviceRoleKey: string;
}

/** Reads the function's settings once; a ConfigError lists every problem (never a value). */
export function loadUnsubscribeConfig(env: Record<string, string | undefined>): UnsubscribeConfig {
  const parsed = parseConfig(schema, env);
  return Object.freeze({
    secret: parsed.UNSUBSCRIBE_SECRET,
    supabaseUrl: parsed.SUPABASE_URL,
    serviceRoleKey: parsed.SUPABASE_SERVICE_ROLE_KEY,
  });
}
