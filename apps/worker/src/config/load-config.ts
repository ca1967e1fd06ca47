import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, type DatabaseConfig, loadDatabaseConfig } from "@balansity/db";
import { type QueueName, queueNames } from "@balansity/queues";
import { z } from "zod";
import {
  hasOnlySupabaseApiSettings,
  readSeedEraVariables,
  supabaseConnectionHelp,
} from "./seed-era-variables.ts";
import type {
  DkimConfig,
  QueueSettings,
  ReportsConfig,
  SendLimit,
  SmtpFallbackConfig,
  UnsubscribeConfig,
  WorkerConfig,
} from "./worker-config.ts";

export type WorkerEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_QUEUE_SETTINGS: Readonly<Record<QueueName, QueueSettings>> = {
  email_queue: { concurrency: 32, batchSize: 32, visibilityTimeoutSeconds: 60, maxAttempts: 8 },
  report_generation_queue: { concurrency: 2, batchSize: 2, visibilityTimeoutSeconds: 120, maxAttempts: 5 },
  payment_processing_queue: { concurrency: 8, batchSize: 8, visibilityTimeoutSeconds: 60, maxAttempts: 10 },
  analytics_queue: { concurrency: 500, batchSize: 500, visibilityTimeoutSeconds: 60, maxAttempts: 5 },
};

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const email = z.email({ error: "must be an email address, e.g. noreply@balansity.ru" });
const url = z.url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" });

/**
 * Reads the worker's configuration from the environment once, into a frozen object.
 * Every problem (database and worker alike) is reported together in one ConfigError; values of
 * secrets are never echoed.
 *
 * ### Examples
 * ```ts
 * const config = loadConfig(process.env);
 * ```
 */
export function loadConfig(env: WorkerEnv): WorkerConfig {
  const issues: string[] = [];
  const seedEra = readSeedEraVariables(env);
  issues.push(...seedEra.issues);
  let database: DatabaseConfig | undefined;
  try {
    database = loadDatabaseConfig({ DATABASE_APPLICATION_NAME: "balansity-worker", ...env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (hasOnlySupabaseApiSettings(env)) {
      // A seed-era .env: say where the connection string is instead of "DATABASE_URL is not set".
      issues.push(
        supabaseConnectionHelp,
        ...error.issues.filter((issue) => !issue.startsWith("DATABASE_URL is not set")),
      );
    } else {
      issues.push(...error.issues);
    }
  }

  const read = <T>(
    name: string,
    schema: z.ZodType<T>,
    fallback: T | undefined,
    required = false,
  ): T | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") {
      if (required && fallback === undefined) issues.push(`${name} is required`);
      return fallback;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    // Show the value only for non-secret variables.
    const shown = /PASS|SECRET|KEY/.test(name) ? "" : ` (got "${raw}")`;
    issues.push(`${name} ${parsed.error.issues[0]?.message ?? "is invalid"}${shown}`);
    return fallback;
  };

  const smtpHost = read("SMTP_HOST", z.string().min(1), undefined, true);
  const smtpPort = read("SMTP_PORT", int(1, 65_535), 587);
  const smtpSecure = read(
    "SMTP_SECURE",
    z.enum(["auto", "tls", "starttls", "none"], { error: "must be auto, tls, starttls or none" }),
    "auto",
  );
  const smtpUser = read("SMTP_USER", z.string().min(1), undefined);
  const smtpPass = read("SMTP_PASS", z.string().min(1), undefined);
  if (smtpUser !== undefined && smtpPass === undefined)
    issues.push("SMTP_PASS is required when SMTP_USER is set");
  if (smtpPass !== undefined && smtpUser === undefined)
    issues.push("SMTP_USER is required when SMTP_PASS is set");
  const smtpSecurity = resolveSmtpSecurity(smtpSecure ?? "auto", smtpPort ?? 587);
  if (smtpUser !== undefined && smtpSecurity === "none" && smtpHost !== undefined && !isLoopback(smtpHost)) {
    issues.push(
      `SMTP_USER/SMTP_PASS with SMTP_SECURE=none would send the SMTP password to ${smtpHost} in clear: ` +
        "set SMTP_SECURE=starttls (port 587) or tls (port 465); plaintext AUTH is only accepted to a loopback relay",
    );
  }
  const smtpFrom = read("SMTP_FROM", email, undefined, true);
  const smtpFromName = read("SMTP_FROM_NAME", z.string().min(1).max(100), "Balansity");
  const smtpMaxConnections = read("SMTP_MAX_CONNECTIONS", int(1, 100), 5);
  const smtpThread = read("SMTP_THREAD", z.enum(["on", "off"], { error: "must be on or off" }), "on");
  const smtpSendLimit = read("SMTP_SEND_LIMIT", sendLimitSchema, undefined);
  const smtpThrottleMaxPause = read("SMTP_THROTTLE_MAX_PAUSE_SECONDS", int(1, 3600), 300);
  const dkim = readDkimConfig(read, issues, smtpFrom);
  const smtpFallback = readSmtpFallback(read, issues, {
    from: smtpFrom,
    thread: smtpThread !== "off",
    throttleMaxPauseSeconds: smtpThrottleMaxPause ?? 300,
    dkim,
  });

  const queues = {} as Record<QueueName, QueueSettings>;
  for (const queue of queueNames) {
    const prefix = `QUEUE_${queue.toUpperCase()}_`;
    const defaults = DEFAULT_QUEUE_SETTINGS[queue];
    queues[queue] = Object.freeze({
      concurrency: read(`${prefix}CONCURRENCY`, int(1, 1000), defaults.concurrency) ?? defaults.concurrency,
      batchSize: read(`${prefix}BATCH_SIZE`, int(1, 1000), defaults.batchSize) ?? defaults.batchSize,
      visibilityTimeoutSeconds:
        read(`${prefix}VT_SECONDS`, int(1, 86_400), defaults.visibilityTimeoutSeconds) ??
        defaults.visibilityTimeoutSeconds,
      maxAttempts: read(`${prefix}MAX_ATTEMPTS`, int(1, 100), defaults.maxAttempts) ?? defaults.maxAttempts,
    });
  }

  const appUrl = read("APP_URL", url, "https://balansity.ru") ?? "https://balansity.ru";
  const reports = readReportsConfig(read, issues, appUrl);
  const unsubscribe = readUnsubscribeConfig(read, issues);

  const config = {
    smtp: {
      host: smtpHost ?? "",
      port: smtpPort ?? 587,
      security: smtpSecurity,
      user: smtpUser,
      password: smtpPass,
      from: smtpFrom ?? "",
      fromName: smtpFromName ?? "Balansity",
      maxConnections: smtpMaxConnections ?? 5,
      thread: smtpThread !== "off",
      sendLimit: smtpSendLimit,
      throttleMaxPauseSeconds: smtpThrottleMaxPause ?? 300,
      dkim,
    },
    queues,
    // WORKER_INTERVAL_MS: the seed-era name, honoured with a deprecation warning when it is the only one.
    pollIntervalMs:
      read(
        seedEra.pollIntervalMs === undefined ? "WORKER_POLL_INTERVAL_MS" : "WORKER_INTERVAL_MS",
        int(10, 600_000),
        1000,
      ) ?? 1000,
    shutdownTimeoutMs: read("WORKER_SHUTDOWN_TIMEOUT_MS", int(0, 600_000), 25_000) ?? 25_000,
    probeMaxIntervalMs: read("WORKER_PROBE_MAX_INTERVAL_MS", int(50, 300_000), 5_000) ?? 5_000,
    logFormat:
      read("LOG_FORMAT", z.enum(["json", "pretty"], { error: "must be json or pretty" }), "json") ?? "json",
    http: {
      // Loopback by default: /metrics and /readyz say how the system is doing; expose them on purpose.
      host: read("WORKER_HTTP_HOST", z.string().min(1), "127.0.0.1") ?? "127.0.0.1",
      port: read("WORKER_HTTP_PORT", int(0, 65_535), 8080) ?? 8080,
    },
    logLevel:
      read(
        "LOG_LEVEL",
        z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
          error: "must be one of fatal, error, warn, info, debug, trace, silent",
        }),
        "info",
      ) ?? "info",
    scheduler:
      read("WORKER_SCHEDULER", z.enum(["auto", "on", "off"], { error: "must be auto, on or off" }), "auto") ??
      "auto",
    payments: {
      apiUrl: read("PAYMENT_API_URL", url, "https://api.yookassa.ru/v3") ?? "https://api.yookassa.ru/v3",
      shopId: read("PAYMENT_SHOP_ID", z.string().min(1), undefined),
      secretKey: read("PAYMENT_SECRET_KEY", z.string().min(1), undefined),
    },
    smtpFallback,
    appUrl,
    reports,
    unsubscribe,
    deprecations: seedEra.deprecations,
  };

  if (issues.length > 0 || !database) {
    throw new ConfigError(
      issues.length ? issues : ["database configuration is missing"],
      "invalid worker configuration",
    );
  }
  return deepFreeze({ ...config, database });
}

type Read = <T>(
  name: string,
  schema: z.ZodType<T>,
  fallback: T | undefined,
  required?: boolean,
) => T | undefined;

/**
 * REPORT_STORAGE=fs (default: a folder, REPORT_FS_DIR, links under REPORT_PUBLIC_URL signed with
 * REPORT_LINK_SECRET; refused under NODE_ENV=production unless REPORT_FS_ALLOW_PRODUCTION=true) or supabase
 * (SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, REPORT_BUCKET), REPORT_LINK_TTL_SECONDS,
 * REPORT_ATTACHMENT_MAX_BYTES.
 */
function readReportsConfig(read: Read, issues: string[], appUrl: string): ReportsConfig {
  const kind =
    read("REPORT_STORAGE", z.enum(["fs", "supabase"], { error: "must be fs or supabase" }), "fs") ?? "fs";
  const linkTtlSeconds = read("REPORT_LINK_TTL_SECONDS", int(60, 31_536_000), 604_800) ?? 604_800;
  const attachmentMaxBytes = read("REPORT_ATTACHMENT_MAX_BYTES", int(0, 26_214_400), 5_242_880) ?? 5_242_880;
  if (kind === "supabase") {
    const supabaseUrl = read("SUPABASE_URL", url, undefined);
    const serviceRoleKey = read("SUPABASE_SERVICE_ROLE_KEY", z.string().min(1), undefined);
    if (supabaseUrl === undefined) issues.push("SUPABASE_URL is required when REPORT_STORAGE=supabase");
    if (serviceRoleKey === undefined)
      issues.push("SUPABASE_SERVICE_ROLE_KEY is required when REPORT_STORAGE=supabase");
    const bucket =
      read(
        "REPORT_BUCKET",
        z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, { error: "must be a bucket name" }),
        "reports",
      ) ?? "reports";
    return {
      storage: { kind, url: supabaseUrl ?? "", serviceRoleKey: serviceRoleKey ?? "", bucket },
      linkTtlSeconds,
      attachmentMaxBytes,
    };
  }
  // The folder store is for development: in production it is refused unless explicitly allowed
  // (a single host that serves the folder itself), and then its links need a real secret.
  const production = read("NODE_ENV", z.string(), undefined) === "production";
  const allowed = read(
    "REPORT_FS_ALLOW_PRODUCTION",
    z.enum(["true", "false"], { error: "must be true or false" }),
    "false",
  );
  if (production && allowed !== "true") {
    issues.push(
      "REPORT_STORAGE=fs is refused under NODE_ENV=production: use REPORT_STORAGE=supabase (the private reports bucket), or set REPORT_FS_ALLOW_PRODUCTION=true for a host that serves the folder itself",
    );
  }
  const secretSchema = z
    .string()
    .min(32, { error: "must be at least 32 characters (e.g. openssl rand -base64 32)" });
  const linkSecret = read("REPORT_LINK_SECRET", secretSchema, undefined);
  if (production && linkSecret === undefined) {
    issues.push("REPORT_LINK_SECRET is required when REPORT_STORAGE=fs under NODE_ENV=production");
  }
  return {
    storage: {
      kind,
      dir: read("REPORT_FS_DIR", z.string().min(1), undefined) ?? join(tmpdir(), "balansity-reports"),
      publicUrl: read("REPORT_PUBLIC_URL", url, undefined) ?? new URL("/reports/", appUrl).toString(),
      linkSecret,
    },
    linkTtlSeconds,
    attachmentMaxBytes,
  };
}

/**
 * UNSUBSCRIBE_URL (the `unsubscribe` Edge Function, e.g. https://<ref>.supabase.co/functions/v1/unsubscribe)
 * and UNSUBSCRIBE_SECRET (at least 32 characters, the same value as the function's): both or neither.
 */
function readUnsubscribeConfig(read: Read, issues: string[]): UnsubscribeConfig | undefined {
  const unsubscribeUrl = read("UNSUBSCRIBE_URL", url, undefined);
  const secret = read(
    "UNSUBSCRIBE_SECRET",
    z.string().min(32, { error: "must be at least 32 characters (e.g. openssl rand -base64 32)" }),
    undefined,
  );
  if (unsubscribeUrl !== undefined && secret === undefined)
    issues.push(
      "UNSUBSCRIBE_SECRET is required when UNSUBSCRIBE_URL is set (the same value as the unsubscribe function's)",
    );
  if (unsubscribeUrl === undefined && secret !== undefined)
    issues.push(
      "UNSUBSCRIBE_URL is required when UNSUBSCRIBE_SECRET is set (the unsubscribe function's public address)",
    );
  if (unsubscribeUrl === undefined || secret === undefined) return undefined;
  return { url: unsubscribeUrl, secret };
}

/**
 * SMTP_DKIM_SELECTOR with SMTP_DKIM_PRIVATE_KEY (PEM) or SMTP_DKIM_PRIVATE_KEY_FILE (a path to one);
 * SMTP_DKIM_DOMAIN defaults to the domain of SMTP_FROM. The key is checked here and never echoed.
 */
function readDkimConfig(read: Read, issues: string[], from: string | undefined): DkimConfig | undefined {
  const selector = read(
    "SMTP_DKIM_SELECTOR",
    z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, { error: "must be a DNS label, e.g. mail2026" }),
    undefined,
  );
  const inline = read("SMTP_DKIM_PRIVATE_KEY", z.string().min(1), undefined);
  const file = read("SMTP_DKIM_PRIVATE_KEY_FILE", z.string().min(1), undefined);
  const domain = read(
    "SMTP_DKIM_DOMAIN",
    z.string().regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i, { error: "must be a domain name" }),
    from?.split("@")[1],
  );
  if (inline === undefined && file === undefined) {
    if (selector !== undefined)
      issues.push(
        "SMTP_DKIM_PRIVATE_KEY or SMTP_DKIM_PRIVATE_KEY_FILE is required when SMTP_DKIM_SELECTOR is set",
      );
    return undefined;
  }
  if (inline !== undefined && file !== undefined) {
    issues.push("set SMTP_DKIM_PRIVATE_KEY or SMTP_DKIM_PRIVATE_KEY_FILE, not both");
    return undefined;
  }
  if (selector === undefined) issues.push("SMTP_DKIM_SELECTOR is required with a DKIM private key");
  let privateKey = inline;
  if (file !== undefined) {
    try {
      privateKey = readFileSync(file, "utf8");
    } catch (error) {
      issues.push(
        `SMTP_DKIM_PRIVATE_KEY_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
      return undefined;
    }
  }
  const source = file === undefined ? "SMTP_DKIM_PRIVATE_KEY" : "SMTP_DKIM_PRIVATE_KEY_FILE";
  // A key in one line of an env file may carry its line breaks as \n.
  const pem = (privateKey ?? "").replace(/\\n/g, "\n");
  try {
    createPrivateKey(pem);
  } catch {
    issues.push(`${source} is not a PEM private key (-----BEGIN PRIVATE KEY----- …)`);
    return undefined;
  }
  if (selector === undefined || domain === undefined) return undefined;
  return { domainName: domain, keySelector: selector, privateKey: pem };
}

/**
 * SMTP_FALLBACK_*: a second SMTP account for transactional email while the primary has been throttled
 * or down for SMTP_FALLBACK_AFTER. Off unless SMTP_FALLBACK_HOST is set. Its From is SMTP_FALLBACK_FROM,
 * else SMTP_FROM (a provider such as nic.ru refuses a From outside the account's own domains, so set it
 * when the accounts' domains differ); DKIM signs its mail only when its From is on the DKIM domain.
 */
function readSmtpFallback(
  read: Read,
  issues: string[],
  primary: {
    from: string | undefined;
    thread: boolean;
    throttleMaxPauseSeconds: number;
    dkim: DkimConfig | undefined;
  },
): SmtpFallbackConfig | undefined {
  const host = read("SMTP_FALLBACK_HOST", z.string().min(1), undefined);
  const port = read("SMTP_FALLBACK_PORT", int(1, 65_535), 587) ?? 587;
  const secure =
    read(
      "SMTP_FALLBACK_SECURE",
      z.enum(["auto", "tls", "starttls", "none"], { error: "must be auto, tls, starttls or none" }),
      "auto",
    ) ?? "auto";
  const user = read("SMTP_FALLBACK_USER", z.string().min(1), undefined);
  const password = read("SMTP_FALLBACK_PASS", z.string().min(1), undefined);
  const from = read("SMTP_FALLBACK_FROM", email, undefined) ?? primary.from;
  const maxConnections = read("SMTP_FALLBACK_MAX_CONNECTIONS", int(1, 100), 2) ?? 2;
  const afterSeconds = read("SMTP_FALLBACK_AFTER", durationSchema, 60) ?? 60;
  if (host === undefined) {
    const stray = [user && "SMTP_FALLBACK_USER", password && "SMTP_FALLBACK_PASS"].filter(Boolean);
    if (stray.length > 0)
      issues.push(`${stray.join(" and ")} set without SMTP_FALLBACK_HOST (the fallback transport is off)`);
    return undefined;
  }
  if (user !== undefined && password === undefined)
    issues.push("SMTP_FALLBACK_PASS is required when SMTP_FALLBACK_USER is set");
  if (password !== undefined && user === undefined)
    issues.push("SMTP_FALLBACK_USER is required when SMTP_FALLBACK_PASS is set");
  const security = resolveSmtpSecurity(secure, port);
  if (user !== undefined && security === "none" && !isLoopback(host)) {
    issues.push(
      `SMTP_FALLBACK_USER/SMTP_FALLBACK_PASS with SMTP_FALLBACK_SECURE=none would send the fallback's SMTP password to ${host} in clear: ` +
        "set SMTP_FALLBACK_SECURE=starttls (port 587) or tls (port 465); plaintext AUTH is only accepted to a loopback relay",
    );
  }
  const sameDomain = (address: string | undefined) => address?.split("@")[1]?.toLowerCase();
  const dkim =
    primary.dkim && sameDomain(from) === primary.dkim.domainName.toLowerCase() ? primary.dkim : undefined;
  return {
    afterSeconds,
    smtp: {
      host,
      port,
      security,
      user,
      password,
      from: from ?? "",
      fromName: read("SMTP_FROM_NAME", z.string().min(1).max(100), "Balansity") ?? "Balansity",
      maxConnections,
      thread: primary.thread,
      sendLimit: undefined,
      throttleMaxPauseSeconds: primary.throttleMaxPauseSeconds,
      dkim,
    },
  };
}

const DURATION_UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** `60s`, `5m`, `1h`: from 1 second to 24 hours, in whole seconds. */
const durationSchema: z.ZodType<number> = z
  .string()
  .regex(/^\d+[smh]$/, { error: "must be a duration in s, m or h, e.g. 60s or 5m" })
  .transform((text, context) => {
    const unit = text.slice(-1) as keyof typeof DURATION_UNIT_SECONDS;
    const seconds = Number(text.slice(0, -1)) * DURATION_UNIT_SECONDS[unit];
    if (seconds < 1 || seconds > 86_400)
      context.addIssue({ code: "custom", message: "must be from 1s to 24h" });
    return seconds;
  });

const WINDOW_UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** `<count>/<window>`: `50/15m`, `20/10s`, `500/h` (a window without a number is one unit). */
const sendLimitSchema: z.ZodType<SendLimit> = z
  .string()
  .regex(/^\d+\/\d*[smh]$/, {
    error: "must be <count>/<window> with the window in s, m or h, e.g. 50/15m",
  })
  .transform((text, context) => {
    const [count = "", window = ""] = text.split("/");
    const unit = window.slice(-1) as keyof typeof WINDOW_UNIT_SECONDS;
    const amount = window.length > 1 ? Number(window.slice(0, -1)) : 1;
    const limit = { count: Number(count), windowSeconds: amount * WINDOW_UNIT_SECONDS[unit] };
    if (limit.count < 1 || limit.count > 100_000)
      context.addIssue({ code: "custom", message: "must allow from 1 to 100000 messages per window" });
    if (limit.windowSeconds < 1 || limit.windowSeconds > 86_400)
      context.addIssue({ code: "custom", message: "must have a window from 1s to 24h" });
    return limit;
  });

/** 465 is TLS from the first byte; anything else must upgrade with STARTTLS unless told otherwise. */
/** localhost, 127.0.0.0/8 and ::1: a relay on this machine, where no network sees the traffic. */
function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

function resolveSmtpSecurity(requested: "auto" | "tls" | "starttls" | "none", port: number) {
  if (requested !== "auto") return requested;
  return port === 465 ? "tls" : "starttls";
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
