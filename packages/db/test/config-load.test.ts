import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadDatabaseConfig } from "../src/index.ts";

// Placeholders only: never a real project's credentials.
const PASSWORD = "example-password-not-real";
const POOLER_HOST = "aws-0-eu-north-1.pooler.supabase.com";
const POOLER_URL = `postgresql://postgres.project-ref:${PASSWORD}@${POOLER_HOST}:6543/postgres`;

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadDatabaseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

function caFile(text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"): string {
  const path = join(mkdtempSync(join(tmpdir(), "db-config-")), "ca.crt");
  writeFileSync(path, text);
  return path;
}

/** A Supabase pooler configuration with its CA (a placeholder certificate: nothing connects here). */
const SUPABASE = { DATABASE_URL: POOLER_URL, DATABASE_SSL_CA: caFile() };

describe("loadDatabaseConfig: where to connect", () => {
  it("reads every part of DATABASE_URL, decoding a percent-encoded password", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://app%40user:p%40ss%21word@db.example.com:5433/balansity",
    });
    expect(config).toMatchObject({
      source: "DATABASE_URL",
      host: "db.example.com",
      port: 5433,
      database: "balansity",
      user: "app@user",
    });
    expect(config.password).toBe("p@ss!word");
  });

  it("reads the discrete DATABASE_HOST / PORT / NAME / USER / PASSWORD variables when DATABASE_URL is absent", () => {
    const config = loadDatabaseConfig({
      DATABASE_HOST: "db.example.com",
      DATABASE_PORT: "5433",
      DATABASE_NAME: "balansity",
      DATABASE_USER: "app",
      DATABASE_PASSWORD: PASSWORD,
    });
    expect(config).toMatchObject({
      source: "DATABASE_HOST",
      host: "db.example.com",
      port: 5433,
      user: "app",
    });
    expect(config.password).toBe(PASSWORD);
  });

  it("prefers DATABASE_URL over the discrete variables", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://from-url@url.example.com/urldb",
      DATABASE_HOST: "discrete.example.com",
      DATABASE_NAME: "discretedb",
      DATABASE_USER: "discrete",
    });
    expect(config).toMatchObject({
      source: "DATABASE_URL",
      host: "url.example.com",
      port: 5432,
      user: "from-url",
    });
  });

  it("allows no password (local trust authentication) and defaults the port to 5432", () => {
    const config = loadDatabaseConfig({
      DATABASE_HOST: "localhost",
      DATABASE_NAME: "postgres",
      DATABASE_USER: "postgres",
    });
    expect(config.password).toBeUndefined();
    expect(config.port).toBe(5432);
  });

  it("treats empty variables as unset, as compose substitution of an unset variable leaves them", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "",
      DATABASE_HOST: "localhost",
      DATABASE_NAME: "postgres",
      DATABASE_USER: "postgres",
      DATABASE_PASSWORD: "",
      DATABASE_SSL: " ",
    });
    expect(config.source).toBe("DATABASE_HOST");
    expect(config.password).toBeUndefined();
    expect(config.ssl.mode).toBe("disable");
  });

  it("applies the defaults: pool of 10, application balansity, no statement timeout, 10 s connect timeout", () => {
    const config = loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres@localhost/postgres" });
    expect(config).toMatchObject({
      poolMax: 10,
      applicationName: "balansity",
      statementTimeoutMs: undefined,
      connectTimeoutMs: 10_000,
    });
  });

  it("reads pool size, statement timeout and application name", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://postgres@localhost/postgres",
      DATABASE_POOL_MAX: "25",
      DATABASE_STATEMENT_TIMEOUT_MS: "30000",
      DATABASE_APPLICATION_NAME: "balansity-worker",
    });
    expect(config).toMatchObject({
      poolMax: 25,
      statementTimeoutMs: 30_000,
      applicationName: "balansity-worker",
    });
  });

  it("ignores variables it does not know", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://postgres@localhost/postgres",
      DATABASE_SCHEMA: "public",
      USE_SUPABASE: "true",
      SMTP_HOST: "mail.example.com",
    });
    expect(config.database).toBe("postgres");
  });

  it("returns a frozen object", () => {
    const config = loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres@localhost/postgres" });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ssl)).toBe(true);
    expect(Object.isFrozen(config.pooler)).toBe(true);
  });
});

describe("loadDatabaseConfig: errors", () => {
  it("lists every problem at once, one line each, naming the variable", () => {
    const error = configError({
      DATABASE_HOST: "db.example.com",
      DATABASE_PORT: "five",
      DATABASE_SSL: "maybe",
      DATABASE_POOL_MODE: "statement",
      DATABASE_POOL_MAX: "0",
      DATABASE_STATEMENT_TIMEOUT_MS: "-1",
      DATABASE_APPLICATION_NAME: "x".repeat(64),
    });
    expect(error.code).toBe("invalid_config");
    const named = [
      "DATABASE_NAME",
      "DATABASE_USER",
      "DATABASE_PORT",
      "DATABASE_SSL",
      "DATABASE_POOL_MODE",
      "DATABASE_POOL_MAX",
      "DATABASE_STATEMENT_TIMEOUT_MS",
      "DATABASE_APPLICATION_NAME",
    ];
    expect(error.issues).toHaveLength(named.length);
    for (const variable of named) {
      expect(error.issues.filter((issue) => issue.startsWith(variable))).toHaveLength(1);
    }
    // One line per problem after the summary line.
    expect(error.message.split("\n")).toHaveLength(named.length + 1);
    expect(error.message).toContain("8 problems");
  });

  it("says what to set when nothing is configured", () => {
    const error = configError({});
    expect(error.issues).toEqual([
      expect.stringMatching(/^DATABASE_URL is not set: set DATABASE_URL=postgresql:\/\//),
    ]);
  });

  it("rejects a URL that is not postgres, and one with no database or user", () => {
    expect(configError({ DATABASE_URL: "mysql://root@localhost/app" }).issues[0]).toMatch(
      /^DATABASE_URL must start with postgresql:\/\//,
    );
    expect(configError({ DATABASE_URL: "postgresql://postgres@localhost" }).issues[0]).toMatch(
      /no database name/,
    );
    expect(configError({ DATABASE_URL: "postgresql://localhost/postgres" }).issues[0]).toMatch(/no user/);
  });

  it("tells how to replace the old DATABASE_SSL=true", () => {
    const error = configError({ ...SUPABASE, DATABASE_SSL: "true" });
    expect(error.issues).toEqual([
      expect.stringMatching(/^DATABASE_SSL="true" is no longer a mode: write verify-full/),
    ]);
  });

  it("refuses a statement timeout in transaction pool mode and says where to set it instead", () => {
    const error = configError({ ...SUPABASE, DATABASE_STATEMENT_TIMEOUT_MS: "30000" });
    expect(error.issues).toEqual([expect.stringMatching(/^DATABASE_STATEMENT_TIMEOUT_MS .*alter role/)]);
  });
});

describe("loadDatabaseConfig: secrets stay out of messages", () => {
  const secretCases: Record<string, Record<string, string>> = {
    "a URL with an unencoded '#' in the password": {
      DATABASE_URL: `postgresql://postgres.project-ref:${PASSWORD}#x@${POOLER_HOST}:6543/postgres`,
    },
    "a URL that does not parse": {
      DATABASE_URL: `postgresql://postgres:${PASSWORD}@db.example.com:99999/postgres`,
    },
    "a URL with a bad sslmode": { DATABASE_URL: `${POOLER_URL}?sslmode=prefer` },
    "a URL with a malformed escape": {
      DATABASE_URL: `postgresql://postgres:${PASSWORD}%zz@db.example.com/postgres`,
    },
    "discrete variables with a password and errors elsewhere": {
      DATABASE_HOST: "db.example.com",
      DATABASE_PASSWORD: PASSWORD,
      DATABASE_POOL_MAX: "lots",
    },
  };
  for (const [name, env] of Object.entries(secretCases)) {
    it(`never shows the password or the URL: ${name}`, () => {
      const error = configError(env);
      expect(error.issues.length).toBeGreaterThan(0);
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain("example-password");
      expect(String(error)).not.toContain(PASSWORD);
      expect(JSON.stringify(error)).not.toContain(PASSWORD);
    });
  }

  it("keeps the password out of JSON and util.inspect of the config", async () => {
    const { inspect } = await import("node:util");
    const config = loadDatabaseConfig({ ...SUPABASE, DATABASE_SSL: "require" });
    expect(config.password).toBe(PASSWORD);
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(inspect(config, { depth: 5 })).not.toContain(PASSWORD);
    expect(String(config)).not.toContain(PASSWORD);
  });
});

describe("loadDatabaseConfig: TLS", () => {
  it.each([
    ["localhost", "disable"],
    ["127.0.0.1", "disable"],
    ["[::1]", "disable"],
    ["db.example.com", "verify-full"],
    ["10.0.0.5", "verify-full"],
  ])("defaults to the right mode for host %s (%s)", (host, mode) => {
    const config = loadDatabaseConfig({ DATABASE_URL: `postgresql://postgres@${host}:5432/postgres` });
    expect(config.ssl).toMatchObject({ mode, source: "default" });
  });

  it("defaults to disable for a Unix socket directory", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://postgres@/postgres?host=/var/run/postgresql",
    });
    expect(config.host).toBe("/var/run/postgresql");
    expect(config.ssl.mode).toBe("disable");
  });

  it("takes sslmode from the URL", () => {
    const config = loadDatabaseConfig({ ...SUPABASE, DATABASE_URL: `${POOLER_URL}?sslmode=require` });
    expect(config.ssl).toMatchObject({ mode: "require", source: "DATABASE_URL" });
  });

  it("takes DATABASE_SSL, including the explicit insecure no-verify", () => {
    expect(loadDatabaseConfig({ ...SUPABASE, DATABASE_SSL: "verify-ca" }).ssl.mode).toBe("verify-ca");
    expect(loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL: "no-verify" }).ssl).toMatchObject({
      mode: "no-verify",
      source: "DATABASE_SSL",
    });
    expect(
      loadDatabaseConfig({
        DATABASE_URL: "postgresql://postgres@localhost/postgres",
        DATABASE_SSL: "require",
      }).ssl.mode,
    ).toBe("require");
  });

  it("refuses DATABASE_SSL and sslmode that disagree", () => {
    const error = configError({
      DATABASE_URL: "postgresql://u@db.example.com/app?sslmode=disable",
      DATABASE_SSL: "verify-full",
    });
    expect(error.issues).toEqual([
      expect.stringMatching(/^DATABASE_SSL=verify-full disagrees with sslmode=disable/),
    ]);
  });

  it("refuses sslmode=prefer, which would fall back to plain text silently", () => {
    expect(configError({ DATABASE_URL: `${POOLER_URL}?sslmode=prefer` }).issues).toEqual([
      expect.stringMatching(/^sslmode=prefer in DATABASE_URL is not supported/),
    ]);
  });

  it("reads the CA certificate named by DATABASE_SSL_ROOT_CERT (or the URL's sslrootcert)", () => {
    const path = caFile();
    const fromEnv = loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL_ROOT_CERT: path });
    expect(fromEnv.ssl.rootCertPath).toBe(path);
    expect(fromEnv.ssl.rootCert).toContain("BEGIN CERTIFICATE");
    const fromUrl = loadDatabaseConfig({
      DATABASE_URL: `${POOLER_URL}?sslmode=verify-full&sslrootcert=${path}`,
    });
    expect(fromUrl.ssl.rootCertPath).toBe(path);
  });

  it("reports a CA file that is missing or holds no certificate", () => {
    const missing = configError({ DATABASE_URL: POOLER_URL, DATABASE_SSL_ROOT_CERT: "/nonexistent/ca.crt" });
    expect(missing.issues).toEqual([
      expect.stringMatching(/^DATABASE_SSL_ROOT_CERT=\/nonexistent\/ca.crt cannot be read \(ENOENT\)/),
    ]);
    const junk = configError({
      DATABASE_URL: POOLER_URL,
      DATABASE_SSL_ROOT_CERT: caFile("not a certificate"),
    });
    expect(junk.issues).toEqual([expect.stringMatching(/holds no PEM certificate/)]);
  });

  it("refuses a CA file with a mode that checks no certificate", () => {
    const error = configError({
      DATABASE_URL: POOLER_URL,
      DATABASE_SSL: "no-verify",
      DATABASE_SSL_ROOT_CERT: caFile(),
    });
    expect(error.issues).toEqual([
      expect.stringMatching(/^DATABASE_SSL_ROOT_CERT is set but the SSL mode is no-verify/),
    ]);
  });
});

describe("loadDatabaseConfig: pooler", () => {
  it("detects Supabase's transaction pooler on aws-0-eu-north-1.pooler.supabase.com:6543", () => {
    const config = loadDatabaseConfig(SUPABASE);
    expect(config.user).toBe("postgres.project-ref");
    expect(config.pooler).toEqual({ mode: "transaction", requested: "auto", supabase: true });
    expect(config.supportsListen).toBe(false);
    expect(config.preparedStatements).toBe(false);
    expect(config.ssl.mode).toBe("verify-full");
  });

  it("uses session mode on the session pooler port 5432", () => {
    const config = loadDatabaseConfig({ ...SUPABASE, DATABASE_URL: POOLER_URL.replace(":6543", ":5432") });
    expect(config.pooler).toEqual({ mode: "session", requested: "auto", supabase: true });
    expect(config.supportsListen).toBe(true);
    expect(config.preparedStatements).toBe(true);
  });

  it("uses transaction mode on port 6543 of any host, and session mode on a direct connection", () => {
    expect(
      loadDatabaseConfig({ DATABASE_URL: "postgresql://u@pgbouncer.internal:6543/app" }).pooler.mode,
    ).toBe("transaction");
    expect(
      loadDatabaseConfig({
        ...SUPABASE,
        DATABASE_URL: "postgresql://postgres@db.project-ref.supabase.co:5432/postgres",
      }).pooler,
    ).toEqual({
      mode: "session",
      requested: "auto",
      supabase: false,
    });
  });

  it("follows an explicit DATABASE_POOL_MODE", () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: "postgresql://u@pgbouncer.internal:6432/app",
      DATABASE_POOL_MODE: "transaction",
    });
    expect(config.pooler).toEqual({ mode: "transaction", requested: "transaction", supabase: false });
    expect(config.supportsListen).toBe(false);
  });
});
