/**
 * TLS against a real PostgreSQL serving a certificate from a CA made at test time. The server's
 * certificate names only `localhost`, so `127.0.0.1` is a host-name mismatch with a trusted chain.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConnectionError,
  type DatabaseEnv,
  explainConnectionError,
  loadDatabaseConfig,
  runMigrations,
  toPoolConfig,
} from "../src/index.ts";
import { startTlsPostgres, type TlsPostgres, tlsUnavailable } from "./support/tls-postgres.ts";

const missing = await tlsUnavailable();
let server: TlsPostgres | undefined;
let unsupported: string | undefined;

beforeAll(async () => {
  if (missing) return;
  const started = await startTlsPostgres();
  if ("unsupported" in started) unsupported = started.unsupported;
  else server = started;
}, 120_000);
afterAll(() => server?.stop());

function tls(): TlsPostgres {
  if (!server) throw new Error("the TLS server did not start");
  return server;
}

/** Connects with our configuration; returns whether the session is encrypted, or the explained error. */
async function connect(env: DatabaseEnv): Promise<{ ssl: boolean } | ConnectionError> {
  const config = loadDatabaseConfig(env, { warn: () => undefined });
  const client = new pg.Client(toPoolConfig(config));
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>(
      "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
    );
    return { ssl: rows[0]?.ssl ?? false };
  } catch (error) {
    return explainConnectionError(error, config);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const url = (host: string, query = "") => `postgresql://postgres@${host}:${tls().port}/postgres${query}`;

describe.skipIf(missing !== undefined)("TLS against a real server with a throwaway CA", () => {
  it("is served (or the reason it cannot be is clear)", () => {
    // Embedded builds without OpenSSL cannot serve TLS; the system PostgreSQL always can.
    if (unsupported) console.warn(`[tls] skipped: ${unsupported}`);
    expect(server !== undefined || unsupported !== undefined).toBe(true);
  });

  it("verify-full with the right CA connects, encrypted", async (context) => {
    if (!server) return context.skip(unsupported);
    expect(
      await connect({
        DATABASE_URL: url("localhost"),
        DATABASE_SSL: "verify-full",
        DATABASE_SSL_CA: tls().caPath,
      }),
    ).toEqual({ ssl: true });
  });

  it("the supabase profile connects to a local stand-in with the CA given as PEM text on one line", async (context) => {
    if (!server) return context.skip(unsupported);
    const pem = readFileSync(tls().caPath, "utf8").trim().replaceAll("\n", "\\n");
    expect(
      await connect({ DATABASE_PROFILE: "supabase", DATABASE_URL: url("localhost"), DATABASE_SSL_CA: pem }),
    ).toEqual({ ssl: true });
  });

  it("a wrong CA is refused, saying the certificate does not chain to DATABASE_SSL_CA", async (context) => {
    if (!server) return context.skip(unsupported);
    const result = await connect({
      DATABASE_URL: url("localhost"),
      DATABASE_SSL: "verify-full",
      DATABASE_SSL_CA: tls().wrongCaPath,
    });
    expect(result).toBeInstanceOf(ConnectionError);
    expect(result).toMatchObject({ code: "tls_untrusted_certificate" });
    expect((result as Error).message).toMatch(
      new RegExp(`^the TLS certificate of localhost:\\d+ does not chain to the CA in ${tls().wrongCaPath}`),
    );
  });

  it("without DATABASE_SSL_CA the throwaway CA is not trusted (it is in no system store)", async (context) => {
    if (!server) return context.skip(unsupported);
    const result = await connect({ DATABASE_URL: url("localhost"), DATABASE_SSL: "verify-full" });
    expect(result).toMatchObject({ code: "tls_untrusted_certificate" });
    expect((result as Error).message).toContain("does not chain to a CA in the system store");
  });

  it("a host name the certificate does not name is refused by verify-full, with the fix in the message", async (context) => {
    if (!server) return context.skip(unsupported);
    const result = await connect({
      DATABASE_URL: url("127.0.0.1"),
      DATABASE_SSL: "verify-full",
      DATABASE_SSL_CA: tls().caPath,
    });
    expect(result).toMatchObject({ code: "tls_host_mismatch" });
    expect((result as Error).message).toMatch(/is not issued for the host name "127\.0\.0\.1".*verify-ca/);
  });

  it("verify-ca checks the chain but not the host name", async (context) => {
    if (!server) return context.skip(unsupported);
    const env = { DATABASE_URL: url("127.0.0.1"), DATABASE_SSL: "verify-ca" };
    expect(await connect({ ...env, DATABASE_SSL_CA: tls().caPath })).toEqual({ ssl: true });
    expect(await connect({ ...env, DATABASE_SSL_CA: tls().wrongCaPath })).toMatchObject({
      code: "tls_untrusted_certificate",
    });
  });

  it("sslmode=require in the URL: encrypted, chain checked (unlike libpq), host name not checked", async (context) => {
    if (!server) return context.skip(unsupported);
    const right = `?sslmode=require&sslrootcert=${tls().caPath}`;
    const wrong = `?sslmode=require&sslrootcert=${tls().wrongCaPath}`;
    expect(await connect({ DATABASE_URL: url("127.0.0.1", right) })).toEqual({ ssl: true });
    expect(await connect({ DATABASE_URL: url("127.0.0.1", wrong) })).toMatchObject({
      code: "tls_untrusted_certificate",
    });
  });

  it("node-postgres given the same URL itself checks the host name too (why the URL is parsed here)", async (context) => {
    if (!server) return context.skip(unsupported);
    // What the README's sslmode table says of pg-connection-string: require is treated as verify-full.
    const client = new pg.Client({
      connectionString: url("127.0.0.1", `?sslmode=require&sslrootcert=${tls().caPath}`),
    });
    client.on("error", () => undefined);
    const error = await client.connect().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await client.end().catch(() => undefined);
    expect(error).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("no-verify connects whatever the certificate, and warns that verification is off", async (context) => {
    if (!server) return context.skip(unsupported);
    const warnings: string[] = [];
    const config = loadDatabaseConfig(
      { DATABASE_URL: url("127.0.0.1"), DATABASE_SSL: "no-verify" },
      { warn: (message) => warnings.push(message) },
    );
    expect(warnings).toEqual([expect.stringMatching(/^TLS certificate verification is OFF/)]);
    const client = new pg.Client(toPoolConfig(config));
    await client.connect();
    try {
      const { rows } = await client.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await client.end();
    }
  });

  it("disable connects in plain text even to a server offering TLS", async (context) => {
    if (!server) return context.skip(unsupported);
    expect(await connect({ DATABASE_URL: url("127.0.0.1") })).toEqual({ ssl: false });
  });

  it("the migration runner verifies TLS the same way, and applies over TLS", async (context) => {
    if (!server) return context.skip(unsupported);
    const directory = mkdtempSync(join(tmpdir(), "db-tls-migrations-"));
    writeFileSync(join(directory, "001_tls_probe.sql"), "create table public.tls_probe (id int);\n");
    try {
      const env = { DATABASE_SSL: "verify-full", DATABASE_SSL_CA: tls().caPath };
      const mismatch = await runMigrations({
        config: loadDatabaseConfig({ ...env, DATABASE_URL: url("127.0.0.1") }),
        directory,
      }).catch((error: unknown) => error);
      expect(mismatch).toMatchObject({ code: "tls_host_mismatch" });
      const result = await runMigrations({
        config: loadDatabaseConfig({ ...env, DATABASE_URL: url("localhost") }),
        directory,
      });
      expect(result.applied).toEqual(["001_tls_probe.sql"]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

if (missing) {
  describe("TLS against a real server", () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
