import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ConsoleOperator, consoleSignInLink, findOperator } from "./console-sign-in.ts";
import { type EdgeFunctions, edgeFunctionNames, startEdgeFunctions } from "./edge-functions.ts";
import { readOrCreateJwtSecret, readOrCreateSecret } from "./jwt-secret.ts";
import { freePort } from "./postgres/free-port.ts";
import { startPostgrestRpc } from "./postgrest-rpc.ts";
import { applyMigrations, applySeed, installPgCron, installPlatform } from "./prepare-database.ts";
import { parseSinkLimit, type SmtpSink, startSmtpSink } from "./smtp-sink.ts";
import { CRON_DATABASE, describePostgres, parsePostgresChoice, startPostgres } from "./start-postgres.ts";
import { withDatabase } from "./testing.ts";
import { startYooKassaStandIn, type YooKassaStandIn } from "./yookassa-stand-in.ts";

export interface DevstackOptions {
  /** Folder for data and logs (git-ignored `.devstack/` at the repository root by default). */
  readonly dir: string;
  /** Preferred ports; a free one is taken when busy. Defaults follow the Supabase CLI's local ports. */
  readonly postgresPort?: number;
  readonly smtpPort?: number;
  readonly smtpHttpPort?: number;
  /** The PostgREST-compatible RPC server for browsers (the Supabase CLI's API port by default). */
  readonly apiPort?: number;
  /** The Edge Functions (`/functions/v1/<name>`); default 54331. */
  readonly functionsPort?: number;
  /** The YooKassa stand-in; default 54332. */
  readonly yookassaPort?: number;
  /** Where the console's dev server runs, for the sign-in link. Default http://localhost:5173/. */
  readonly consoleUrl?: string;
  readonly env: Record<string, string | undefined>;
  /** One event: a message, and fields where it has some (e.g. each email the sink receives). */
  readonly log: (line: string, fields?: Readonly<Record<string, unknown>>) => void;
}

/** The running local stack: where everything is, and how to stop it. */
export interface Devstack {
  /** The application database (`postgres`, as on Supabase), superuser, no password (trust on loopback). */
  readonly databaseUrl: string;
  readonly postgres: { readonly host: string; readonly port: number; readonly pgCron: boolean };
  readonly smtp: SmtpSink;
  /** supabase-js `createClient(api.url, api.anonKey)` reaches the database's RPCs through this. */
  readonly api: { readonly url: string; readonly anonKey: string };
  /** The Edge Functions under Deno: `${functions.url}/yookassa-webhook`, as on Supabase. */
  readonly functions: EdgeFunctions;
  /** The YooKassa stand-in: the worker and the functions use it; it notifies yookassa-webhook. */
  readonly yookassa: YooKassaStandIn;
  /** The folder store's folder and the secret its links are signed with (the worker gets both). */
  readonly reports: { readonly dir: string; readonly linkSecret: string };
  /** The HMAC key of reminders' unsubscribe links (UNSUBSCRIBE_SECRET of the worker and the function). */
  readonly unsubscribeSecret: string;
  /** Opens the console signed in as the seeded operator; undefined when the database has none. */
  readonly consoleSignIn: { readonly operator: ConsoleOperator; readonly link: string } | undefined;
  /** Migration files applied by this start. */
  readonly migrationsApplied: readonly string[];
  readonly seeded: boolean;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL (data kept between runs), installs the platform objects and pgmq, applies
 * migrations (and the seed on a new cluster), and starts the SMTP sink, the RPC API, the YooKassa
 * stand-in and the Edge Functions under Deno (the stand-in notifies yookassa-webhook).
 */
export async function startDevstack(options: DevstackOptions): Promise<Devstack> {
  mkdirSync(options.dir, { recursive: true });
  const started = await startPostgres({
    dataDir: join(options.dir, "postgres"),
    logFile: join(options.dir, "postgres.log"),
    port: options.postgresPort ?? 54322,
    durability: "durable",
    choice: parsePostgresChoice(options.env.DEVSTACK_POSTGRES),
    pgBin: options.env.PG_BIN,
  });
  const { cluster } = started;
  const stops: Array<() => Promise<void>> = [() => cluster.stop()];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne();
  };
  try {
    const databaseUrl = withDatabase(cluster.adminUrl, CRON_DATABASE);
    if (cluster.pgCron) await installPgCron(databaseUrl);
    const pgmqExtension = await installPlatform(databaseUrl);
    options.log(describePostgres(started, pgmqExtension));
    const migrationsApplied = await applyMigrations(databaseUrl);
    if (cluster.created) await applySeed(databaseUrl);
    // Preferred ports as the Supabase CLI's Inbucket uses them; any free one when they are taken.
    const smtp = await startSmtpSink({
      smtpPort: await freePort("127.0.0.1", options.smtpPort ?? 54325),
      httpPort: await freePort("127.0.0.1", options.smtpHttpPort ?? 54324),
      // Local test mail only: who and what, never the body.
      onMessage: (message) =>
        options.log("mail received", {
          id: message.id,
          to: message.envelope.to.join(", "),
          subject: message.subject,
        }),
      // SMTP_SINK_LIMIT=50/15m: the sink refuses like the provider past its limit (pnpm dev).
      limit: options.env.SMTP_SINK_LIMIT ? parseSinkLimit(options.env.SMTP_SINK_LIMIT) : undefined,
      onRefused: (refused) =>
        options.log("mail refused: past the sink's SMTP_SINK_LIMIT (451 4.7.1)", { refused }),
    });
    stops.push(() => smtp.stop());
    // The worker's folder store writes reports here; the API signs and serves them as Storage would.
    const reports = {
      dir: join(options.dir, "reports"),
      linkSecret: readOrCreateSecret(options.dir, "report-link-secret"),
    };
    const api = await startPostgrestRpc({
      databaseUrl,
      jwtSecret: readOrCreateJwtSecret(options.dir),
      port: await freePort("127.0.0.1", options.apiPort ?? 54321),
      storage: reports,
    });
    stops.push(() => api.stop());
    const yookassa = await startYooKassaStandIn({
      port: await freePort("127.0.0.1", options.yookassaPort ?? 54332),
    });
    stops.push(() => yookassa.close());
    // The unsubscribe links' HMAC key, shared by the worker (devstackEnv) and the function.
    const unsubscribeSecret = readOrCreateSecret(options.dir, "unsubscribe-secret");
    const functions = await startEdgeFunctions({
      names: edgeFunctionNames,
      port: await freePort("127.0.0.1", options.functionsPort ?? 54331),
      env: {
        SUPABASE_URL: api.url,
        SUPABASE_ANON_KEY: api.anonKey,
        SUPABASE_SERVICE_ROLE_KEY: api.serviceRoleKey,
        PAYMENT_API_URL: yookassa.apiUrl,
        PAYMENT_SHOP_ID: yookassa.shopId,
        PAYMENT_SECRET_KEY: yookassa.secretKey,
        // Local callers are not YooKassa's addresses; the API lookup still guards every notification.
        PAYMENT_IP_CHECK: "off",
        PAYMENT_RETURN_URL: new URL("payments/done", options.consoleUrl ?? "http://localhost:5173/").href,
        UNSUBSCRIBE_SECRET: unsubscribeSecret,
      },
      log: (line, fields) => options.log(line, fields),
    });
    stops.push(() => functions.stop());
    yookassa.setNotificationUrl(`${functions.url}/yookassa-webhook`);
    const operator = await findOperator(databaseUrl);
    const consoleUrl = options.consoleUrl ?? "http://localhost:5173/";
    return {
      databaseUrl,
      postgres: { host: cluster.host, port: cluster.port, pgCron: cluster.pgCron },
      smtp,
      api: { url: api.url, anonKey: api.anonKey },
      functions,
      yookassa,
      reports,
      unsubscribeSecret,
      consoleSignIn: operator && {
        operator,
        link: await consoleSignInLink({ consoleUrl, databaseUrl, operator, signJwt: api.signJwt }),
      },
      migrationsApplied,
      seeded: cluster.created,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The environment a worker or console needs to use this stack (no secrets: trust auth, local sink). */
export function devstackEnv(stack: Devstack): Record<string, string> {
  return {
    DATABASE_URL: stack.databaseUrl,
    SMTP_HOST: stack.smtp.host,
    SMTP_PORT: String(stack.smtp.smtpPort),
    SMTP_SECURE: "none",
    SMTP_FROM: "noreply@balansity.local",
    SMTP_FROM_NAME: "Balansity (local)",
    SMTP_SINK_URL: stack.smtp.url,
    // Public values (a browser gets them); the service-role key and the JWT secret stay out.
    SUPABASE_URL: stack.api.url,
    SUPABASE_ANON_KEY: stack.api.anonKey,
    FUNCTIONS_URL: stack.functions.url,
    // The YooKassa stand-in's credentials, made at start-up for this run (nothing real).
    PAYMENT_API_URL: stack.yookassa.apiUrl,
    PAYMENT_SHOP_ID: stack.yookassa.shopId,
    PAYMENT_SECRET_KEY: stack.yookassa.secretKey,
    // The worker's folder store: links the API's Storage stand-in checks (a secret of this cluster only).
    REPORT_STORAGE: "fs",
    REPORT_FS_DIR: stack.reports.dir,
    REPORT_PUBLIC_URL: `${stack.api.url}/storage/v1/object/sign/reports/`,
    REPORT_LINK_SECRET: stack.reports.linkSecret,
    // Reminders' one-click unsubscribe link, checked by the local `unsubscribe` function.
    UNSUBSCRIBE_URL: `${stack.functions.url}/unsubscribe`,
    UNSUBSCRIBE_SECRET: stack.unsubscribeSecret,
  };
}
