import { z } from "../_shared/deps.ts";
import { parseConfig, providerAndDatabaseEnv } from "../_shared/function-config.ts";

const schema = z.object({
  ...providerAndDatabaseEnv,
  /** `on` (default): only YooKassa's published addresses may call; `off` for local runs and tests. */
  PAYMENT_IP_CHECK: z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
});

export interface WebhookConfig {
  readonly apiUrl: string;
  readonly shopId: string;
  readonly secretKey: string;
  readonly supabaseUrl: string;
  readonly serviceRoleKey: string;
  readonly checkIp: boolean;
}

/** Reads the function's settings once; a ConfigError lists every problem. */
export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookConfig {
  const parsed = parseConfig(schema, env);
  return Object.freeze({
    apiUrl: parsed.PAYMENT_API_URL,
    shopId: parsed.PAYMENT_SHOP_ID,
    secretKey: parsed.PAYMENT_SECRET_KEY,
    supabaseUrl: parsed.SUPABASE_URL,
    serviceRoleKey: parsed.SUPABASE_SERVICE_ROLE_KEY,
    checkIp: parsed.PAYMENT_IP_CHECK === "on",
  });
}
