import type { DatabaseConfig } from "./database-config.ts";

/** Why a connection could not be opened, as far as the reader can act on it. */
export type ConnectionErrorCode =
  /** The server's certificate does not chain to the CA we trust (`DATABASE_SSL_CA`, else the system's). */
  | "tls_untrusted_certificate"
  /** The certificate chains to a trusted CA but is issued for another host name. */
  | "tls_host_mismatch"
  /** The certificate has expired or is not valid yet. */
  | "tls_certificate_expired"
  /** The server does not speak TLS at all. */
  | "tls_not_supported"
  /** Anything else: refused, timed out, authentication failed... (the server's message is kept). */
  | "connection_failed";

const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/**
 * A failed connection, with a message that says what to change. Messages never contain the
 * password: they are built from the host, port and TLS settings only, plus the driver's message.
 */
export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;

  constructor(code: ConnectionErrorCode, message: string, cause: unknown) {
    super(message, { cause });
    this.name = "ConnectionError";
    this.code = code;
  }
}

/**
 * Turns an error from opening a connection into a {@link ConnectionError} that names the cause and
 * the fix (TLS trust, host name, expiry, a server without TLS). Use it where a person reads the
 * error: CLIs and start-up logs.
 *
 * ### Examples
 * ```ts
 * import pg from "pg";
 * import { explainConnectionError, loadDatabaseConfig, toPoolConfig } from "@balansity/db";
 *
 * const config = loadDatabaseConfig(process.env);
 * const client = new pg.Client(toPoolConfig(config));
 * await client.connect().catch((error) => {
 *   throw explainConnectionError(error, config); // "... does not chain to the CA in DATABASE_SSL_CA ..."
 * });
 * ```
 */
export function explainConnectionError(error: unknown, config: DatabaseConfig): ConnectionError {
  if (error instanceof ConnectionError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const server = `${config.host}:${config.port}`;
  const trusted =
    config.ssl.rootCert === undefined
      ? "a CA in the system store"
      : `the CA in ${config.ssl.rootCertPath ?? "DATABASE_SSL_CA"}`;
  if (typeof code === "string" && UNTRUSTED.has(code)) {
    return new ConnectionError(
      "tls_untrusted_certificate",
      `the TLS certificate of ${server} does not chain to ${trusted} (${reason}): set DATABASE_SSL_CA to the CA ` +
        "that signed the server's certificate (Supabase: Project Settings > Database > SSL configuration > " +
        "Download certificate); do not turn verification off",
      error,
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new ConnectionError(
      "tls_host_mismatch",
      `the TLS certificate of ${server} is not issued for the host name "${config.host}" (${reason}): connect ` +
        "with a host name the certificate names, or use DATABASE_SSL=verify-ca to check the chain but not the name",
      error,
    );
  }
  if (typeof code === "string" && EXPIRED.has(code)) {
    return new ConnectionError(
      "tls_certificate_expired",
      `the TLS certificate of ${server} is not valid now (${reason}): the server's certificate must be renewed`,
      error,
    );
  }
  if (/does not support SSL/i.test(reason)) {
    return new ConnectionError(
      "tls_not_supported",
      `${server} does not accept TLS but DATABASE_SSL is ${config.ssl.mode}: enable TLS on the server, or use ` +
        "DATABASE_PROFILE=local (TLS off) for a server on this machine",
      error,
    );
  }
  return new ConnectionError("connection_failed", `cannot connect to ${server}: ${reason}`, error);
}
