import { z } from "./deps.ts";

/** Raised at start-up; lists every missing or invalid variable at once. */
export class ConfigError extends Error {
  readonly code = "config_invalid";
  constructor(readonly problems: readonly string[]) {
    super(`the function's configuration is invalid: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Parses `env` with `schema`; a ConfigError names each variable that is wrong (never its value). */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
): z.output<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
}

/** `Deno.env.toObject()` where the permission allows it. */
export function denoEnv(): Record<string, string | undefined> {
  return Deno.env.toObject();
}

const url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

/** What both functions need: YooKassa's API and the project's API (Supabase injects SUPABASE_*). */
export const providerAndDatabaseEnv = {
  PAYMENT_API_URL: url.default("https://api.yookassa.ru/v3"),
  PAYMENT_SHOP_ID: z
    .string({ error: "is required (the YooKassa shop id)" })
    .min(1, { error: "must not be empty" }),
  PAYMENT_SECRET_KEY: z
    .string({ error: "is required (the YooKassa secret key)" })
    .min(1, { error: "must not be empty" }),
  SUPABASE_URL: url,
  SUPABASE_SERVICE_ROLE_KEY: z
    .string({ error: "is required (Supabase sets it for every function)" })
    .min(1, { error: "must not be empty" }),
};
