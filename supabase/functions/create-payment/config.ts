import { z } from "../_shared/deps.ts";
import { parseConfig, providerAndDatabaseEnv } from "../_shared/function-config.ts";

const schema = z.object({
  ...providerAndDatabaseEnv,
  SUPABASE_ANON_KEY: z.string({ error: "is required (Supabase sets it for every function)" }).min(1),
  /** Where YooKassa sends the payer back after paying (a page of the app). */
  PAYMENT_RETURN_URL: z.url({
    protocol: /^https?$/,
    error: "must be an http(s) URL (the app's page after paying)",
  }),
});

export interface CreatePaymentConfig {
  readonly apiUrl: string;
  readonly shopId: string;
  readonly secretKey: string;
  readonly supabaseUrl: string;
  readonly anonKey: string;
  readonly serviceRoleKey: string;
  readonly returnUrl: string;
}

/** Reads the function's settings once; a ConfigError lists every problem. */
export function loadCreatePaymentConfig(env: Record<string, string | undefined>): CreatePaymentConfig {
  const parsed = parseConfig(schema, env);
  return Object.freeze({
    apiUrl: parsed.PAYMENT_API_URL,
    shopId: parsed.PAYMENT_SHOP_ID,
    secretKey: parsed.PAYMENT_SECRET_KEY,
    supabaseUrl: parsed.SUPABASE_URL,
    anonKey: parsed.SUPABASE_ANON_KEY,
    serviceRoleKey: parsed.SUPABASE_SERVICE_ROLE_KEY,
    returnUrl: parsed.PAYMENT_RETURN_URL,
  });
}
