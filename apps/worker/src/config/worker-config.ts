import type { DatabaseConfig } from "@balansity/db";
import type { QueueName } from "@balansity/queues";

/** How one queue is consumed. */
export interface QueueSettings {
  /** Messages handled at once. */
  readonly concurrency: number;
  /** Messages read per round trip. */
  readonly batchSize: number;
  /** Visibility timeout in seconds: how long a read message stays hidden from other workers. */
  readonly visibilityTimeoutSeconds: number;
  /** Deliveries before the message goes to the dead-letter queue. */
  readonly maxAttempts: number;
}

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  /** `tls`: TLS from the first byte (465). `starttls`: upgrade required (587). `none`: local sinks only. */
  readonly security: "tls" | "starttls" | "none";
  readonly user: string | undefined;
  /** Never logged. */
  readonly password: string | undefined;
  readonly from: string;
  readonly fromName: string;
  readonly maxConnections: number;
  /**
   * `true` (SMTP_THREAD=on, the default): nodemailer runs on a thread of its own, beside the main
   * thread's reads, rendering and database writes. `false`: on the main thread, less memory at peak
   * and fewer emails per second (bench/RESULTS.md, email-pipeline and report-throughput).
   */
  readonly thread: boolean;
  /**
   * SMTP_SEND_LIMIT=<count>/<window> (`50/15m`): at most `count` emails in any `window`, counted in
   * PostgreSQL for every replica sending as this account. Undefined (the default): no budget.
   */
  readonly sendLimit: SendLimit | undefined;
  /**
   * SMTP_THROTTLE_MAX_PAUSE_SECONDS: the longest pause after a throttling reply (421/450/451/452, a
   * 5xx naming a rate or limit); pauses grow from 1 s while the server keeps throttling. Default 300.
   */
  readonly throttleMaxPauseSeconds: number;
  /** DKIM signing of every email (nodemailer's `dkim`); undefined when no key is configured. */
  readonly dkim: DkimConfig | undefined;
}

/**
 * SMTP_FALLBACK_*: a second SMTP account. While the primary has been throttled or unreachable for
 * `afterSeconds`, transactional email (tier 0 of emailSendTiers) goes through it; the rest waits for
 * the primary.
 */
export interface SmtpFallbackConfig {
  readonly smtp: SmtpConfig;
  readonly afterSeconds: number;
}

/** SMTP_DKIM_*: the signing domain, the DNS selector, and the private key (PEM; never logged). */
export interface DkimConfig {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

/** A provider's sending limit: at most `count` messages in any window of `windowSeconds`. */
export interface SendLimit {
  readonly count: number;
  readonly windowSeconds: number;
}

/**
 * The one-click unsubscribe link of reminder emails (List-Unsubscribe, RFC 8058): UNSUBSCRIBE_URL,
 * the `unsubscribe` Edge Function's public address, and UNSUBSCRIBE_SECRET, the HMAC key it shares
 * with the function (never logged).
 */
export interface UnsubscribeConfig {
  readonly url: string;
  readonly secret: string;
}

/** Where checkup reports are kept and how they reach the user. */
export interface ReportsConfig {
  readonly storage:
    | {
        readonly kind: "fs";
        /** Folder the PDFs are written under. */
        readonly dir: string;
        /** Base of the links in emails; the path and a signed token are appended. */
        readonly publicUrl: string;
        /**
         * HS256 secret of the links (REPORT_LINK_SECRET); never logged. Unset outside production: the
         * store signs with a secret of the process's own (links nothing else can check).
         */
        readonly linkSecret: string | undefined;
      }
    | {
        readonly kind: "supabase";
        /** The project URL, e.g. https://<ref>.supabase.co. */
        readonly url: string;
        /** Never logged. */
        readonly serviceRoleKey: string;
        readonly bucket: string;
      };
  /** How long the signed link in the report_ready email works. */
  readonly linkTtlSeconds: number;
  /** A larger PDF is not attached to the email (the link still is there). */
  readonly attachmentMaxBytes: number;
}

export interface WorkerConfig {
  readonly database: DatabaseConfig;
  readonly smtp: SmtpConfig;
  /** Undefined unless SMTP_FALLBACK_HOST is set. */
  readonly smtpFallback: SmtpFallbackConfig | undefined;
  readonly queues: Readonly<Record<QueueName, QueueSettings>>;
  /** Backstop poll when no NOTIFY arrives (and the only wake-up in transaction pool mode). */
  readonly pollIntervalMs: number;
  /** How long in-flight messages may finish after SIGTERM before they are released. */
  readonly shutdownTimeoutMs: number;
  /**
   * The longest wait between two probes of a transport that is down (the database at start-up or
   * later, SMTP, the payment provider): how soon work resumes after an outage ends.
   */
  readonly probeMaxIntervalMs: number;
  /** `pretty`: readable lines for people (the default under `pnpm dev`); `json`: one JSON object a line. */
  readonly logFormat: "json" | "pretty";
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** `auto`: run the cron jobs here only when pg_cron is absent. */
  readonly scheduler: "auto" | "on" | "off";
  readonly payments: {
    /** Base URL of the YooKassa-compatible API, e.g. https://api.yookassa.ru/v3. */
    readonly apiUrl: string;
    readonly shopId: string | undefined;
    /** Never logged. */
    readonly secretKey: string | undefined;
  };
  /** Base URL of the web app, for links in emails. */
  readonly appUrl: string;
  readonly reports: ReportsConfig;
  /** Reminder emails carry List-Unsubscribe when set; undefined (the default): they do not. */
  readonly unsubscribe: UnsubscribeConfig | undefined;
  /** Seed-era variables honoured under their old names: logged as warnings at start-up, naming the new ones. */
  readonly deprecations: readonly string[];
}
