import { spawnSync } from "node:child_process";
import { z } from "zod";

/** Where the smoke scenario runs: a database and the SMTP sink's HTTP view. */
export interface SmokeConfig {
  readonly databaseUrl: string;
  /** Base URL of the SMTP sink's HTTP/JSON view, e.g. http://127.0.0.1:1080. */
  readonly sinkUrl: string;
  /** How long each step may wait for its email. */
  readonly stepTimeoutMs: number;
  /**
   * The YooKassa stand-in the stack uses (it notifies the webhook); undefined when not given: the
   * payment step is then reported as not run (a real YooKassa needs a person at its checkout page).
   */
  readonly payments:
    | { readonly apiUrl: string; readonly shopId: string; readonly secretKey: string }
    | undefined;
}

export class SmokeConfigError extends Error {
  readonly code = "smoke_config_invalid";
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`smoke: invalid configuration:\n  - ${issues.join("\n  - ")}`);
    this.name = "SmokeConfigError";
    this.issues = issues;
  }
}

const envSchema = z.object({
  DATABASE_URL: z
    .string({ error: "is required" })
    .regex(/^postgres(ql)?:\/\//, { error: "must be a postgres:// URL" }),
  SMTP_SINK_URL: z.url({ protocol: /^https?$/, error: "must be the SMTP sink's http(s) URL" }),
  PAYMENT_API_URL: z
    .url({ protocol: /^https?$/, error: "must be the YooKassa stand-in's API URL (devstack env)" })
    .optional(),
  PAYMENT_SHOP_ID: z.string().min(1, { error: "must not be empty" }).optional(),
  PAYMENT_SECRET_KEY: z.string().min(1, { error: "must not be empty" }).optional(),
  SMOKE_STEP_TIMEOUT_MS: z
    .string()
    .regex(/^\d+$/, { error: "must be a whole number of milliseconds" })
    .transform(Number)
    .default(60_000),
});

/**
 * DATABASE_URL, SMTP_SINK_URL and (for the payment step) the YooKassa stand-in's PAYMENT_API_URL,
 * PAYMENT_SHOP_ID, PAYMENT_SECRET_KEY from the environment; when DATABASE_URL or SMTP_SINK_URL is
 * missing, all of them from the running `pnpm dev` stack (`devstack env`, as `pnpm doctor:local` finds it). Every problem is listed at once.
 */
export function loadSmokeConfig(env: Readonly<Record<string, string | undefined>>): SmokeConfig {
  const given =
    env.DATABASE_URL && env.SMTP_SINK_URL ? env : { ...runningDevstackEnv(), ...definedOnly(env) };
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    throw new SmokeConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`),
    );
  }
  return Object.freeze({
    databaseUrl: parsed.data.DATABASE_URL,
    sinkUrl: parsed.data.SMTP_SINK_URL.replace(/\/+$/, ""),
    stepTimeoutMs: parsed.data.SMOKE_STEP_TIMEOUT_MS,
    payments:
      parsed.data.PAYMENT_API_URL && parsed.data.PAYMENT_SHOP_ID && parsed.data.PAYMENT_SECRET_KEY
        ? Object.freeze({
            apiUrl: parsed.data.PAYMENT_API_URL.replace(/\/+$/, ""),
            shopId: parsed.data.PAYMENT_SHOP_ID,
            secretKey: parsed.data.PAYMENT_SECRET_KEY,
          })
        : undefined,
  });
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

/** `devstack env` of the running stack, or nothing when none runs. */
function runningDevstackEnv(): Record<string, string> {
  const result = spawnSync("devstack", ["env"], { encoding: "utf8" });
  if (result.status !== 0) return {};
  return Object.fromEntries(
    result.stdout
      .split("\n")
      .map((line) => line.match(/^([A-Z][A-Z0-9_]*)=(.*)$/))
      .filter((match): match is RegExpMatchArray => match !== null)
      .map((match) => [match[1] as string, match[2] as string]),
  );
}
