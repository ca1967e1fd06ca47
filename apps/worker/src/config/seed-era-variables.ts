import type { WorkerEnv } from "./load-config.ts";

/**
 * The seed-era worker's `.env` (`SUPABASE_URL`, `SUPABASE_SERVICE_ROLE_KEY`, `WORKER_INTERVAL_MS`,
 * `MAX_TASKS_PER_CYCLE`, `EMAIL_PROVIDER`, `SMTP_FROM_NAME`): each is honoured with a deprecation
 * warning naming the variable that replaces it, or refused with a problem saying what to set instead.
 * Nothing of it is ignored in silence. `SMTP_FROM_NAME` is still ours and needs nothing here.
 */
export interface SeedEraVariables {
  /** WORKER_POLL_INTERVAL_MS as given by WORKER_INTERVAL_MS (when only that is set). */
  readonly pollIntervalMs: string | undefined;
  /** Warnings for the log: honoured, but to be renamed or removed. */
  readonly deprecations: readonly string[];
  /** Problems for the ConfigError: refused. */
  readonly issues: readonly string[];
}

/** The seed-era names read only to warn or refuse (not settings: `.env.example` does not list them). */
export const seedEraVariableNames = ["WORKER_INTERVAL_MS", "MAX_TASKS_PER_CYCLE", "EMAIL_PROVIDER"] as const;

/** Where a Supabase project's connection string is, for someone who only has the API settings. */
export const supabaseConnectionHelp =
  "DATABASE_URL is not set, and SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY (the seed-era worker's settings) do not " +
  "replace it: this worker connects to PostgreSQL itself, not through the Supabase API. Take the Session pooler " +
  "connection string: Supabase dashboard → your project → Connect (top of the page) → Session pooler " +
  "(port 5432, session mode: the worker LISTENs for new messages; the transaction pooler on 6543 cannot), put your " +
  "database password in it (Project Settings → Database resets it) and set " +
  "DATABASE_URL=postgresql://postgres.<project-ref>:<password>@aws-0-<region>.pooler.supabase.com:5432/postgres " +
  "with DATABASE_PROFILE=supabase and DATABASE_SSL_CA (see the worker's README)";

/**
 * Reads the seed-era variables of `env`.
 *
 * ### Examples
 * ```ts
 * const seedEra = readSeedEraVariables({ WORKER_INTERVAL_MS: "5000" });
 * seedEra.pollIntervalMs; // "5000"
 * seedEra.deprecations; // ["WORKER_INTERVAL_MS is deprecated: ... WORKER_POLL_INTERVAL_MS ..."]
 * ```
 */
export function readSeedEraVariables(env: WorkerEnv): SeedEraVariables {
  const deprecations: string[] = [];
  const issues: string[] = [];
  const set = (name: string) => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };

  let pollIntervalMs: string | undefined;
  const interval = set("WORKER_INTERVAL_MS");
  const pollInterval = set("WORKER_POLL_INTERVAL_MS");
  if (interval !== undefined && pollInterval !== undefined && interval !== pollInterval) {
    issues.push(
      `WORKER_INTERVAL_MS (got "${interval}") and WORKER_POLL_INTERVAL_MS (got "${pollInterval}") disagree: ` +
        "WORKER_INTERVAL_MS is the old name of WORKER_POLL_INTERVAL_MS; remove it",
    );
  } else if (interval !== undefined) {
    pollIntervalMs = interval;
    deprecations.push(
      "WORKER_INTERVAL_MS is deprecated: read as WORKER_POLL_INTERVAL_MS (how often an idle queue is polled; " +
        "new messages also wake the worker at once); rename it to WORKER_POLL_INTERVAL_MS",
    );
  }

  if (set("MAX_TASKS_PER_CYCLE") !== undefined) {
    issues.push(
      "MAX_TASKS_PER_CYCLE is no longer read: each queue has its own batch size and concurrency; set " +
        "QUEUE_<QUEUE>_BATCH_SIZE and QUEUE_<QUEUE>_CONCURRENCY (e.g. QUEUE_EMAIL_QUEUE_BATCH_SIZE=10, " +
        "QUEUE_EMAIL_QUEUE_CONCURRENCY=10) where the defaults do not suit, and remove MAX_TASKS_PER_CYCLE",
    );
  }

  const provider = set("EMAIL_PROVIDER");
  if (provider !== undefined && provider.toLowerCase() === "smtp") {
    deprecations.push(
      "EMAIL_PROVIDER is deprecated: the worker always sends over SMTP (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS); remove it",
    );
  } else if (provider !== undefined) {
    issues.push(
      `EMAIL_PROVIDER "${provider}" is not supported: the worker sends over SMTP only; point SMTP_HOST, SMTP_PORT, ` +
        "SMTP_USER and SMTP_PASS at the provider's SMTP relay and remove EMAIL_PROVIDER",
    );
  }

  return { pollIntervalMs, deprecations, issues };
}

/** True when the environment has the Supabase API settings but no way to reach the database itself. */
export function hasOnlySupabaseApiSettings(env: WorkerEnv): boolean {
  const set = (name: string) => (env[name] ?? "") !== "";
  return (
    (set("SUPABASE_URL") || set("SUPABASE_SERVICE_ROLE_KEY")) && !set("DATABASE_URL") && !set("DATABASE_HOST")
  );
}
