import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import type { DatabaseConfig, DatabaseProfile, PoolMode, SslMode } from "./database-config.ts";

/** The environment, as `process.env` gives it. Only the `DATABASE_*` variables below are read. */
export type DatabaseEnv = Readonly<Record<string, string | undefined>>;

const SSL_MODES = ["disable", "require", "verify-ca", "verify-full", "no-verify"] as const;
const PROFILES = ["local", "supabase", "self-hosted"] as const;
const POOL_MODES = ["session", "transaction", "auto"] as const;
const SUPABASE_TRANSACTION_POOLER_PORT = 6543;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1"]);
const SUPABASE_POOLER_HOST = /\.pooler\.supabase\.com$/i;
const SUPABASE_HOST = /\.supabase\.(?:co|com)$/i;
const SUPABASE_CA_HELP =
  "Supabase signs its server certificates with its own CA: download it (Project Settings > Database > " +
  "SSL configuration > Download certificate) and set DATABASE_SSL_CA to the file's path or its PEM text";

const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

export interface LoadDatabaseConfigOptions {
  /**
   * Receives each warning (today: TLS verification turned off with `no-verify`), once per load.
   * Default: `process.emitWarning`, which prints it on stderr.
   */
  readonly warn?: (message: string) => void;
}

/** Each variable: its schema, and the sentence that tells the reader what to do when it fails. */
const fields = {
  DATABASE_PROFILE: {
    schema: z.enum(PROFILES),
    help: "must be local (the devstack), supabase (Supabase Cloud) or self-hosted (any other server); or leave it unset to pick by host",
  },
  DATABASE_PORT: {
    schema: wholeNumber(1, 65_535),
    help: "must be a port number from 1 to 65535: 5432 for Postgres or the session pooler, 6543 for the Supabase transaction pooler",
  },
  DATABASE_SSL: {
    schema: z.enum(SSL_MODES),
    help: (raw: string) =>
      raw === "true" || raw === "false"
        ? // The old env files said DATABASE_SSL=true and meant "TLS without checks": say what to write now.
          "is no longer a mode: write verify-full (TLS with certificate and host checked; set DATABASE_SSL_CA for Supabase) or disable for a local server"
        : "must be one of disable, require, verify-ca, verify-full, no-verify (insecure): use verify-full for a remote server, disable for a local one",
  },
  DATABASE_POOL_MODE: {
    schema: z.enum(POOL_MODES),
    help: "must be session, transaction or auto: auto picks transaction on port 6543 and session otherwise",
  },
  DATABASE_POOL_MAX: {
    schema: wholeNumber(1, 1000),
    help: "must be a whole number from 1 to 1000: the most connections one process opens (default 10)",
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    schema: wholeNumber(0, 2_147_483_647),
    help: "must be a whole number of milliseconds (0 = no limit), e.g. 30000; or leave it unset",
  },
  DATABASE_CONNECT_TIMEOUT_MS: {
    schema: wholeNumber(1, 2_147_483_647),
    help: "must be a whole number of milliseconds above 0, e.g. 10000 (the default)",
  },
  DATABASE_APPLICATION_NAME: {
    schema: z.string().regex(/^[\x20-\x7e]{1,63}$/),
    help: "must be 1 to 63 printable ASCII characters (PostgreSQL's limit), e.g. balansity-worker",
  },
} as const;

type FieldName = keyof typeof fields;

/**
 * Reads the database connection settings from the environment, validates all of them, and
 * returns one frozen object; or throws a {@link ConfigError} listing every problem at once.
 *
 * `DATABASE_URL` wins when set; otherwise `DATABASE_HOST`, `DATABASE_PORT` (5432), `DATABASE_NAME`,
 * `DATABASE_USER` and the optional `DATABASE_PASSWORD` are used. Empty values count as unset (so
 * `${VAR}` in a compose file with VAR unset does what it looks like).
 *
 * `DATABASE_PROFILE` picks the defaults: `local` (the devstack: TLS off), `supabase` (Supabase
 * Cloud: `verify-full` against `DATABASE_SSL_CA`, which is then required; `disable` is refused) or
 * `self-hosted` (`verify-full` against `DATABASE_SSL_CA` or the system CAs). Unset, it is picked by
 * host: loopback and sockets are `local`, `*.supabase.co` / `*.supabase.com` are `supabase`, any
 * other host is `self-hosted`. `DATABASE_SSL=no-verify` is the one way to turn certificate checks
 * off; it is reported through `options.warn`. The pooler mode defaults to `transaction` on port
 * 6543 (Supabase's transaction pooler) and `session` otherwise. Variables it does not know are ignored.
 *
 * ### Examples
 * ```ts
 * import { loadDatabaseConfig } from "@balansity/db";
 *
 * const config = loadDatabaseConfig({
 *   DATABASE_URL: "postgresql://postgres.project-ref:example-password-not-real@aws-0-eu-north-1.pooler.supabase.com:6543/postgres",
 *   DATABASE_SSL_CA: "/etc/ssl/supabase/prod-ca-2021.crt",
 * });
 * config.profile.name; // "supabase" (from the host; DATABASE_PROFILE=supabase says so explicitly)
 * config.ssl.mode; // "verify-full"
 * config.pooler.mode; // "transaction"
 * config.supportsListen; // false: poll instead of LISTEN
 * ```
 */
export function loadDatabaseConfig(
  env: DatabaseEnv,
  options: LoadDatabaseConfigOptions = {},
): DatabaseConfig {
  const issues: string[] = [];
  const read = <K extends FieldName>(name: K): z.output<(typeof fields)[K]["schema"]> | undefined => {
    const raw = value(env, name);
    if (raw === undefined) return undefined;
    const field = fields[name];
    const parsed = field.schema.safeParse(raw);
    if (parsed.success) return parsed.data as z.output<(typeof fields)[K]["schema"]>;
    const help: string | ((raw: string) => string) = field.help;
    issues.push(`${name}=${JSON.stringify(raw)} ${typeof help === "string" ? help : help(raw)}`);
    return undefined;
  };

  const target =
    value(env, "DATABASE_URL") !== undefined ? fromUrl(env, issues) : fromDiscrete(env, issues, read);
  const envSsl = read("DATABASE_SSL");
  const requestedPoolMode = read("DATABASE_POOL_MODE") ?? "auto";
  const poolMax = read("DATABASE_POOL_MAX") ?? 10;
  const statementTimeoutMs = read("DATABASE_STATEMENT_TIMEOUT_MS");
  const connectTimeoutMs = read("DATABASE_CONNECT_TIMEOUT_MS") ?? 10_000;
  const applicationName = read("DATABASE_APPLICATION_NAME") ?? "balansity";

  // Profile: DATABASE_PROFILE, else what the host looks like.
  const host = target?.host;
  const local = host !== undefined && isLocalHost(host);
  const envProfile = read("DATABASE_PROFILE");
  const profile: DatabaseProfile =
    envProfile ??
    (local ? "local" : host !== undefined && SUPABASE_HOST.test(host) ? "supabase" : "self-hosted");

  // TLS: one mode, from DATABASE_SSL or the URL's sslmode (they must agree), else by profile.
  const urlSsl = target?.sslmode;
  if (envSsl !== undefined && urlSsl !== undefined && envSsl !== urlSsl) {
    issues.push(
      `DATABASE_SSL=${envSsl} disagrees with sslmode=${urlSsl} in DATABASE_URL: keep one of them (or make them equal)`,
    );
  }
  const sslMode: SslMode = envSsl ?? urlSsl ?? (profile === "local" ? "disable" : "verify-full");
  const sslSource = envSsl !== undefined ? "DATABASE_SSL" : urlSsl !== undefined ? "DATABASE_URL" : "default";
  if (profile === "supabase" && sslMode === "disable") {
    issues.push(
      `${sslSource === "DATABASE_URL" ? "sslmode=disable in DATABASE_URL" : "DATABASE_SSL=disable"} is refused with ` +
        "DATABASE_PROFILE=supabase: Supabase Cloud is reached over the internet, use verify-full with DATABASE_SSL_CA",
    );
  }

  // The CA: DATABASE_SSL_CA (a path or the PEM text), its older name DATABASE_SSL_ROOT_CERT, or sslrootcert.
  const ca = readCa(env, target?.sslrootcert, issues);
  const checksCertificate = sslMode === "require" || sslMode === "verify-ca" || sslMode === "verify-full";
  if (ca !== undefined && !checksCertificate) {
    issues.push(
      `${ca.variable} is set but the SSL mode is ${sslMode}, which checks no certificate: ` +
        `use DATABASE_SSL=verify-full, or remove ${ca.variable}`,
    );
  }
  const caGiven = ["DATABASE_SSL_CA", "DATABASE_SSL_ROOT_CERT"].some(
    (name) => value(env, name) !== undefined,
  );
  if (profile === "supabase" && checksCertificate && !caGiven && target?.sslrootcert === undefined) {
    const why =
      envProfile === undefined
        ? `the host ${host} is Supabase's (profile supabase)`
        : "DATABASE_PROFILE=supabase";
    issues.push(`DATABASE_SSL_CA is not set, and it is required because ${why}: ${SUPABASE_CA_HELP}`);
  }
  const warnings: string[] = [];
  if (sslMode === "no-verify") {
    warnings.push(
      `TLS certificate verification is OFF (${sslSource === "DATABASE_URL" ? "sslmode=no-verify in DATABASE_URL" : "DATABASE_SSL=no-verify"}): ` +
        "anyone between this process and the database can pose as the server and read the password; " +
        "set DATABASE_SSL=verify-full with DATABASE_SSL_CA instead",
    );
  }
  // The local profile turns TLS off by default; for a host that is not this machine, say so (or refuse
  // outright for Supabase's hosts, which are only reached over the internet).
  if (profile === "local" && host !== undefined && !local && sslSource === "default") {
    if (SUPABASE_HOST.test(host)) {
      issues.push(
        `DATABASE_PROFILE=local turns TLS off, and ${host} is a Supabase host reached over the internet: ` +
          "use DATABASE_PROFILE=supabase (TLS verify-full with DATABASE_SSL_CA)",
      );
    } else {
      warnings.push(
        `DATABASE_PROFILE=local turns TLS off, and ${host} is not this machine: the password and data cross ` +
          "the network unencrypted. Set DATABASE_SSL=disable to say that is intended (a private network, a " +
          "compose service), or use DATABASE_PROFILE=self-hosted (TLS verify-full)",
      );
    }
  }

  // Pooler: transaction mode on the Supabase transaction pooler port unless told otherwise.
  const port = target?.port;
  const poolMode: PoolMode =
    requestedPoolMode === "auto"
      ? port === SUPABASE_TRANSACTION_POOLER_PORT
        ? "transaction"
        : "session"
      : requestedPoolMode;
  if (poolMode === "transaction" && statementTimeoutMs !== undefined) {
    issues.push(
      "DATABASE_STATEMENT_TIMEOUT_MS cannot be applied in transaction pool mode (the pooler shares server " +
        "connections between clients): set it on the role instead (alter role ... set statement_timeout = '30s') " +
        "or connect through the session pooler (port 5432)",
    );
  }

  if (target === undefined || issues.length > 0) throw new ConfigError(issues);

  const config = {
    source: target.source,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    profile: Object.freeze({ name: profile, source: envProfile === undefined ? "host" : "DATABASE_PROFILE" }),
    ssl: Object.freeze({
      mode: sslMode,
      source: sslSource,
      rootCertPath: ca?.path,
      rootCert: ca?.pem,
    }),
    pooler: Object.freeze({
      mode: poolMode,
      requested: requestedPoolMode,
      supabase: SUPABASE_POOLER_HOST.test(target.host),
    }),
    supportsListen: poolMode === "session",
    preparedStatements: poolMode === "session",
    poolMax,
    statementTimeoutMs,
    connectTimeoutMs,
    applicationName,
    warnings: Object.freeze(warnings),
  };
  for (const warning of warnings) (options.warn ?? emitProcessWarning)(warning);
  // Not enumerable: JSON.stringify, pino and util.inspect leave it out.
  Object.defineProperty(config, "password", { value: target.password, enumerable: false });
  return Object.freeze(config as typeof config & { readonly password: string | undefined });
}

interface ConnectionTarget {
  readonly source: "DATABASE_URL" | "DATABASE_HOST";
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
  readonly sslmode?: SslMode | undefined;
  readonly sslrootcert?: string | undefined;
}

/** The value of a variable, with empty and blank strings treated as unset. */
function value(env: DatabaseEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  // A password may legitimately start or end with a space; everything else is trimmed.
  return name === "DATABASE_PASSWORD" ? raw : raw.trim();
}

function fromUrl(env: DatabaseEnv, issues: string[]): ConnectionTarget | undefined {
  // The URL may hold the password: no message below repeats it, or any part of it.
  const raw = value(env, "DATABASE_URL") ?? "";
  const shape = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";
  let url: URL;
  try {
    // libpq allows an empty host (`postgresql://user@/db?host=/var/run/postgresql`); WHATWG URL does not.
    url = new URL(raw.replace(/^(postgres(?:ql)?:\/\/(?:[^/?#@]*@)?)(?=[/?])/i, "$1localhost"));
  } catch {
    issues.push(
      `DATABASE_URL is not a valid URL: write it as ${shape}, with special characters in the password ` +
        "percent-encoded (@ as %40, # as %23, / as %2F, ? as %3F)",
    );
    return undefined;
  }
  const before = issues.length;
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    issues.push(`DATABASE_URL must start with postgresql:// (got ${url.protocol}//): write it as ${shape}`);
  }
  if (url.hash !== "") {
    issues.push(
      "DATABASE_URL contains '#': percent-encode it as %23 (in a password, # starts a URL fragment)",
    );
  }
  const decode = (part: string, what: string): string | undefined => {
    try {
      return decodeURIComponent(part);
    } catch {
      issues.push(`DATABASE_URL has a malformed %-escape in the ${what}: encode % itself as %25`);
      return undefined;
    }
  };
  const user = decode(url.username, "user name");
  const password = url.password === "" ? undefined : decode(url.password, "password");
  const database = decode(url.pathname.replace(/^\//, ""), "database name");
  // libpq allows ?host=/var/run/postgresql for a Unix socket directory.
  const host = url.searchParams.get("host") ?? url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? 5432 : Number(url.port);

  if (host === "") issues.push(`DATABASE_URL has no host: write it as ${shape}`);
  if (port === 0)
    issues.push("DATABASE_URL has port 0: use 5432, or 6543 for the Supabase transaction pooler");
  if (user === "") issues.push(`DATABASE_URL has no user: write it as ${shape}`);
  if (database === "") {
    issues.push(
      `DATABASE_URL has no database name: add it after the host, e.g. ${shape.replace("DATABASE", "postgres")}`,
    );
  }

  let sslmode: SslMode | undefined;
  const rawSslmode = url.searchParams.get("sslmode");
  if (rawSslmode !== null) {
    const parsed = fields.DATABASE_SSL.schema.safeParse(rawSslmode);
    if (parsed.success) sslmode = parsed.data;
    else if (rawSslmode === "prefer" || rawSslmode === "allow") {
      issues.push(
        `sslmode=${rawSslmode} in DATABASE_URL is not supported (it falls back to plain text without telling): ` +
          "use sslmode=verify-full for a remote server or sslmode=disable for a local one",
      );
    } else {
      issues.push(
        `sslmode=${JSON.stringify(rawSslmode)} in DATABASE_URL is not a mode: use disable, require, verify-ca or verify-full`,
      );
    }
  }
  const sslrootcert = url.searchParams.get("sslrootcert") ?? undefined;

  if (issues.length > before || user === undefined || database === undefined) return undefined;
  return { source: "DATABASE_URL", host, port, database, user, password, sslmode, sslrootcert };
}

function fromDiscrete(
  env: DatabaseEnv,
  issues: string[],
  read: (name: "DATABASE_PORT") => number | undefined,
): ConnectionTarget | undefined {
  const host = value(env, "DATABASE_HOST");
  const database = value(env, "DATABASE_NAME");
  const user = value(env, "DATABASE_USER");
  const port = read("DATABASE_PORT");
  const portInvalid = value(env, "DATABASE_PORT") !== undefined && port === undefined;
  if (host === undefined && database === undefined && user === undefined) {
    issues.push(
      "DATABASE_URL is not set: set DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DATABASE, " +
        "or DATABASE_HOST, DATABASE_NAME and DATABASE_USER (with DATABASE_PORT and DATABASE_PASSWORD as needed)",
    );
    return undefined;
  }
  const alternative = "(or set DATABASE_URL instead)";
  if (host === undefined) {
    issues.push(`DATABASE_HOST is not set: set it to the server's host name, e.g. localhost ${alternative}`);
  }
  if (database === undefined) {
    issues.push(`DATABASE_NAME is not set: set it to the database name, e.g. postgres ${alternative}`);
  }
  if (user === undefined) {
    issues.push(`DATABASE_USER is not set: set it to the role to log in as, e.g. postgres ${alternative}`);
  }
  if (host === undefined || database === undefined || user === undefined || portInvalid) return undefined;
  return {
    source: "DATABASE_HOST",
    host,
    port: port ?? 5432,
    database,
    user,
    password: value(env, "DATABASE_PASSWORD"),
  };
}

function isLocalHost(host: string): boolean {
  return LOCAL_HOSTS.has(host.toLowerCase()) || host.startsWith("/");
}

interface CaCertificate {
  /** The variable it came from, for messages. */
  readonly variable: "DATABASE_SSL_CA" | "DATABASE_SSL_ROOT_CERT" | "sslrootcert in DATABASE_URL";
  /** The file it was read from; undefined when the variable held the PEM text itself. */
  readonly path: string | undefined;
  readonly pem: string;
}

const PEM_BEGIN = "-----BEGIN CERTIFICATE-----";

function readCa(
  env: DatabaseEnv,
  urlRootCert: string | undefined,
  issues: string[],
): CaCertificate | undefined {
  const given = [
    ["DATABASE_SSL_CA", value(env, "DATABASE_SSL_CA")],
    ["DATABASE_SSL_ROOT_CERT", value(env, "DATABASE_SSL_ROOT_CERT")],
    ["sslrootcert in DATABASE_URL", urlRootCert],
  ] as const;
  const set = given.filter((entry): entry is [CaCertificate["variable"], string] => entry[1] !== undefined);
  if (set.length > 1 && new Set(set.map(([, text]) => text)).size > 1) {
    issues.push(
      `${set.map(([name]) => name).join(" and ")} disagree: set only DATABASE_SSL_CA ` +
        "(DATABASE_SSL_ROOT_CERT is its older name)",
    );
    return undefined;
  }
  const [first] = set;
  if (first === undefined) return undefined;
  const [variable, text] = first;
  if (text.includes(PEM_BEGIN)) {
    // The PEM text itself; env files that cannot hold several lines may write \n for each line break.
    return { variable, path: undefined, pem: text.replace(/\\n/g, "\n").trim() };
  }
  let pem: string;
  try {
    pem = readFileSync(text, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    issues.push(
      `${variable}=${text} cannot be read (${reason}): point it at the server's CA certificate (a file path or the PEM text). ` +
        "Supabase: Project Settings > Database > SSL configuration > Download certificate",
    );
    return undefined;
  }
  if (!pem.includes(PEM_BEGIN)) {
    issues.push(
      `${variable}=${text} holds no PEM certificate (no "${PEM_BEGIN}" line): download the CA certificate again`,
    );
    return undefined;
  }
  return { variable, path: text, pem };
}

/** The default for warnings: a Node process warning, printed on stderr once per load. */
function emitProcessWarning(message: string): void {
  process.emitWarning(message, { code: "BALANSITY_TLS_UNVERIFIED" });
}
