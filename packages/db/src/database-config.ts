/**
 * How the connection is encrypted and checked.
 *
 * - `disable`: plain TCP. The default for `localhost`, `127.0.0.1`, `::1` and Unix sockets.
 * - `require`: TLS, and the server certificate must chain to a trusted CA (the system store, or
 *   `DATABASE_SSL_CA`); the host name is not checked. Stricter than libpq's `require`,
 *   which checks nothing: here the only way to skip verification is to say `no-verify`.
 * - `verify-ca`: the same checks as `require`, under libpq's name for them.
 * - `verify-full`: TLS, trusted chain and a certificate issued for the host name we dialled.
 *   The default for every other host.
 * - `no-verify`: TLS without any certificate check. INSECURE: anyone on the path can impersonate
 *   the server and read the password. Only for a one-off diagnosis, never in production.
 */
export type SslMode = "disable" | "require" | "verify-ca" | "verify-full" | "no-verify";

/**
 * Which kind of server the configuration is for; it only picks defaults and checks (see
 * {@link loadDatabaseConfig}): `local` = the devstack, `supabase` = Supabase Cloud, `self-hosted` =
 * any other PostgreSQL (including self-hosted Supabase).
 */
export type DatabaseProfile = "local" | "supabase" | "self-hosted";

/** The profile in use and where it came from. */
export interface DatabaseProfileConfig {
  readonly name: DatabaseProfile;
  /** `DATABASE_PROFILE`, or `host` when it was picked from the host name. */
  readonly source: "DATABASE_PROFILE" | "host";
}

/** The pooler mode a connection goes through (Supabase's Supavisor, PgBouncer, or none = `session`). */
export type PoolMode = "session" | "transaction";

/** TLS settings, resolved from `DATABASE_SSL`, the URL's `sslmode` and the host. */
export interface DatabaseSslConfig {
  readonly mode: SslMode;
  /** Where {@link DatabaseSslConfig.mode} came from. */
  readonly source: "DATABASE_SSL" | "DATABASE_URL" | "default";
  /**
   * Path of the CA certificate file (`DATABASE_SSL_CA`, its older name `DATABASE_SSL_ROOT_CERT`, or
   * the URL's `sslrootcert`); undefined when none is set or `DATABASE_SSL_CA` held the PEM text itself.
   */
  readonly rootCertPath: string | undefined;
  /** The CA certificate's PEM text, read once when the configuration is loaded. */
  readonly rootCert: string | undefined;
}

/** Which pooler mode is in use and why. */
export interface DatabasePoolerConfig {
  /** The mode the code must be written for. */
  readonly mode: PoolMode;
  /** What `DATABASE_POOL_MODE` asked for (`auto` = decided from the port). */
  readonly requested: PoolMode | "auto";
  /** True when the host is Supabase's shared pooler (`*.pooler.supabase.com`). */
  readonly supabase: boolean;
}

/**
 * A validated, frozen database configuration: the one object the rest of the code reads.
 *
 * `password` is a non-enumerable property: `JSON.stringify`, pino and `util.inspect` do not show it.
 * Log {@link describeDatabaseConfig} instead of the object anyway.
 */
export interface DatabaseConfig {
  /** Whether the connection came from `DATABASE_URL` or the discrete `DATABASE_HOST`... variables. */
  readonly source: "DATABASE_URL" | "DATABASE_HOST";
  /** Host name, IP address, or a Unix socket directory (starts with `/`). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Absent for local trust (or peer) authentication. Never logged. */
  readonly password: string | undefined;
  readonly profile: DatabaseProfileConfig;
  readonly ssl: DatabaseSslConfig;
  readonly pooler: DatabasePoolerConfig;
  /**
   * False in transaction pool mode: LISTEN registers on a server connection the pooler hands to
   * someone else after the transaction, so notifications never arrive. Poll instead.
   */
  readonly supportsListen: boolean;
  /**
   * False in transaction pool mode: a statement prepared on one server connection is unknown on
   * the next. node-postgres prepares only queries given a `name`; our code never names queries,
   * and neither does kysely, so nothing needs switching off; code that names queries must check
   * this flag first.
   */
  readonly preparedStatements: boolean;
  /** Most connections the pool opens (`DATABASE_POOL_MAX`). */
  readonly poolMax: number;
  /** Server-side `statement_timeout` in milliseconds (`DATABASE_STATEMENT_TIMEOUT_MS`). */
  readonly statementTimeoutMs: number | undefined;
  /** How long to wait for a new connection before failing (`DATABASE_CONNECT_TIMEOUT_MS`). */
  readonly connectTimeoutMs: number;
  /** Shown in `pg_stat_activity.application_name` (`DATABASE_APPLICATION_NAME`). */
  readonly applicationName: string;
  /** What the configuration does that a reader should know (TLS verification off), also sent to `warn` at load. */
  readonly warnings: readonly string[];
}
