import type { DatabaseConfig } from "./database-config.ts";

/**
 * One line that says where a configuration connects and how, without the password: for the
 * start-up log and for `doctor` output.
 *
 * ### Examples
 * ```ts
 * import { describeDatabaseConfig, loadDatabaseConfig } from "@balansity/db";
 *
 * const config = loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres:example-password-not-real@localhost:5432/postgres" });
 * describeDatabaseConfig(config);
 * // "postgres@localhost:5432/postgres (ssl disable, session pooling, pool max 10, application balansity)"
 * ```
 */
export function describeDatabaseConfig(config: DatabaseConfig): string {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const details = [
    `ssl ${config.ssl.mode}${config.ssl.mode === "no-verify" ? " (INSECURE: certificate not checked)" : ""}`,
    ...(config.ssl.rootCert === undefined ? [] : [`ca ${config.ssl.rootCertPath ?? "from DATABASE_SSL_CA"}`]),
    `${config.pooler.mode} pooling${config.pooler.supabase ? " via Supabase pooler" : ""}`,
    `pool max ${config.poolMax}`,
    ...(config.statementTimeoutMs === undefined ? [] : [`statement timeout ${config.statementTimeoutMs}ms`]),
    `application ${config.applicationName}`,
    // Only when chosen: a profile picked from the host adds nothing the host does not show.
    ...(config.profile.source === "DATABASE_PROFILE" ? [`profile ${config.profile.name}`] : []),
  ];
  return `${config.user}@${host}:${config.port}/${config.database} (${details.join(", ")})`;
}
