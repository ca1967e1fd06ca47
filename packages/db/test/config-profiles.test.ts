import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, type DatabaseEnv, loadDatabaseConfig } from "../src/index.ts";

// Placeholders only: never a real project's credentials, never a real certificate.
const PASSWORD = "example-password-not-real";
const POOLER_URL = `postgresql://postgres.project-ref:${PASSWORD}@aws-0-eu-north-1.pooler.supabase.com:6543/postgres`;
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const caPath = join(mkdtempSync(join(tmpdir(), "db-profiles-")), "ca.crt");
writeFileSync(caPath, PEM);

const quiet = { warn: () => undefined };

function issues(env: DatabaseEnv): readonly string[] {
  try {
    loadDatabaseConfig(env, quiet);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("DATABASE_PROFILE picks the defaults; switching is configuration only", () => {
  it.each([
    ["postgresql://postgres@127.0.0.1:5432/postgres", "local", "disable"],
    ["postgresql://postgres@/postgres?host=/var/run/postgresql", "local", "disable"],
    ["postgresql://app@db.internal:5432/app", "self-hosted", "verify-full"],
    ["postgresql://postgres@db.project-ref.supabase.co:5432/postgres", "supabase", "verify-full"],
    [POOLER_URL, "supabase", "verify-full"],
  ])("without DATABASE_PROFILE, %s is profile %s with TLS %s", (url, profile, mode) => {
    const config = loadDatabaseConfig({
      DATABASE_URL: url,
      DATABASE_SSL_CA: mode === "disable" ? "" : caPath,
    });
    expect(config.profile).toEqual({ name: profile, source: "host" });
    expect(config.ssl.mode).toBe(mode);
  });

  it("local: TLS off for a host name that is not loopback (a compose service), with a warning unless DATABASE_SSL=disable says so", () => {
    const quiet = { warn: () => undefined };
    const config = loadDatabaseConfig(
      { DATABASE_PROFILE: "local", DATABASE_URL: "postgresql://postgres@postgres:5432/postgres" },
      quiet,
    );
    expect(config.profile).toEqual({ name: "local", source: "DATABASE_PROFILE" });
    expect(config.ssl).toMatchObject({ mode: "disable", source: "default", rootCert: undefined });
    expect(config.warnings).toEqual([
      "DATABASE_PROFILE=local turns TLS off, and postgres is not this machine: the password and data cross the network unencrypted. Set DATABASE_SSL=disable to say that is intended (a private network, a compose service), or use DATABASE_PROFILE=self-hosted (TLS verify-full)",
    ]);
    const intended = loadDatabaseConfig(
      {
        DATABASE_PROFILE: "local",
        DATABASE_URL: "postgresql://postgres@postgres:5432/postgres",
        DATABASE_SSL: "disable",
      },
      quiet,
    );
    expect(intended.warnings).toEqual([]);
    expect(
      loadDatabaseConfig({
        DATABASE_PROFILE: "local",
        DATABASE_URL: "postgresql://postgres@127.0.0.1/postgres",
      }).warnings,
    ).toEqual([]);
  });

  it("local: refused for a Supabase host (reached over the internet)", () => {
    expect(() =>
      loadDatabaseConfig({
        DATABASE_PROFILE: "local",
        DATABASE_URL: "postgresql://postgres@db.abcdefghijklmnop.supabase.co:5432/postgres",
      }),
    ).toThrow(
      /DATABASE_PROFILE=local turns TLS off, and db\.abcdefghijklmnop\.supabase\.co is a Supabase host/,
    );
  });

  it("supabase: verify-full against DATABASE_SSL_CA, on any host (a local stand-in too)", () => {
    const config = loadDatabaseConfig({
      DATABASE_PROFILE: "supabase",
      DATABASE_URL: "postgresql://postgres@localhost:6543/postgres",
      DATABASE_SSL_CA: caPath,
    });
    expect(config.profile.name).toBe("supabase");
    expect(config.ssl).toMatchObject({ mode: "verify-full", rootCertPath: caPath, rootCert: PEM });
    expect(config.pooler.mode).toBe("transaction");
    expect(config.supportsListen).toBe(false);
  });

  it("supabase without a CA is refused, saying where Supabase's CA is downloaded", () => {
    expect(issues({ DATABASE_PROFILE: "supabase", DATABASE_URL: POOLER_URL })).toEqual([
      expect.stringMatching(
        /^DATABASE_SSL_CA is not set, and it is required because DATABASE_PROFILE=supabase: .*Download certificate/,
      ),
    ]);
    // Picked from the host, the message says so.
    expect(issues({ DATABASE_URL: POOLER_URL })).toEqual([
      expect.stringMatching(
        /required because the host aws-0-eu-north-1\.pooler\.supabase\.com is Supabase's/,
      ),
    ]);
  });

  it("supabase refuses TLS disabled, from DATABASE_SSL or from the URL", () => {
    expect(issues({ DATABASE_URL: POOLER_URL, DATABASE_SSL: "disable" })).toEqual([
      expect.stringMatching(/^DATABASE_SSL=disable is refused with DATABASE_PROFILE=supabase/),
    ]);
    expect(issues({ DATABASE_URL: `${POOLER_URL}?sslmode=disable` })).toEqual([
      expect.stringMatching(/^sslmode=disable in DATABASE_URL is refused/),
    ]);
  });

  it("self-hosted: verify-full against the system CAs unless DATABASE_SSL_CA is set", () => {
    const system = loadDatabaseConfig({
      DATABASE_PROFILE: "self-hosted",
      DATABASE_URL: "postgresql://app@10.0.0.5:5432/app",
    });
    expect(system.ssl).toMatchObject({ mode: "verify-full", rootCert: undefined });
    const own = loadDatabaseConfig({
      DATABASE_PROFILE: "self-hosted",
      DATABASE_URL: "postgresql://app@10.0.0.5:5432/app",
      DATABASE_SSL_CA: caPath,
    });
    expect(own.ssl.rootCert).toBe(PEM);
  });

  it("an unknown profile is named with the three choices, together with every other problem", () => {
    const found = issues({
      DATABASE_PROFILE: "cloud",
      DATABASE_URL: "mysql://root@db.internal/app",
      DATABASE_POOL_MAX: "many",
    });
    expect(found).toHaveLength(3);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL must start with postgresql:\/\//),
        expect.stringMatching(/^DATABASE_PROFILE="cloud" must be local .*, supabase .* or self-hosted/),
        expect.stringMatching(/^DATABASE_POOL_MAX="many"/),
      ]),
    );
  });

  it.each([
    ["local", "not a url"],
    ["supabase", "postgresql://postgres.project-ref@:6543/postgres"],
    ["self-hosted", "postgresql://app@db.internal:0/app"],
  ])("profile %s reports a bad URL without a connection attempt", (profile, url) => {
    expect(issues({ DATABASE_PROFILE: profile, DATABASE_URL: url, DATABASE_SSL_CA: caPath })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DATABASE_URL /)]),
    );
  });
});

describe("DATABASE_SSL_CA", () => {
  it("takes the PEM text itself, also with \\n written for each line break (one-line env files)", () => {
    const multiLine = loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL_CA: PEM });
    // Surrounding whitespace is trimmed like every other value's.
    expect(multiLine.ssl).toMatchObject({ rootCert: PEM.trimEnd(), rootCertPath: undefined });
    const oneLine = loadDatabaseConfig({
      DATABASE_URL: POOLER_URL,
      DATABASE_SSL_CA: PEM.replaceAll("\n", "\\n"),
    });
    expect(oneLine.ssl.rootCert).toBe(PEM.trimEnd());
  });

  it("accepts its older name DATABASE_SSL_ROOT_CERT, and refuses both set to different values", () => {
    expect(
      loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL_ROOT_CERT: caPath }).ssl.rootCert,
    ).toBe(PEM);
    expect(
      issues({ DATABASE_URL: POOLER_URL, DATABASE_SSL_CA: PEM, DATABASE_SSL_ROOT_CERT: caPath }),
    ).toEqual([
      "DATABASE_SSL_CA and DATABASE_SSL_ROOT_CERT disagree: set only DATABASE_SSL_CA (DATABASE_SSL_ROOT_CERT is its older name)",
    ]);
  });

  it("reports a missing file, naming the variable and where to get the certificate", () => {
    expect(issues({ DATABASE_URL: POOLER_URL, DATABASE_SSL_CA: "/nonexistent/prod-ca-2021.crt" })).toEqual([
      expect.stringMatching(
        /^DATABASE_SSL_CA=\/nonexistent\/prod-ca-2021\.crt cannot be read \(ENOENT\): .*Download certificate/,
      ),
    ]);
  });
});

describe("turning verification off", () => {
  it("needs the explicit no-verify and reports one warning through options.warn", () => {
    const warnings: string[] = [];
    const config = loadDatabaseConfig(
      { DATABASE_URL: POOLER_URL, DATABASE_SSL: "no-verify" },
      { warn: (message) => warnings.push(message) },
    );
    expect(config.ssl.mode).toBe("no-verify");
    expect(warnings).toEqual([
      expect.stringMatching(/^TLS certificate verification is OFF \(DATABASE_SSL=no-verify\)/),
    ]);
    expect(config.warnings).toEqual(warnings);
  });

  it("by default warns on stderr as a Node process warning", async () => {
    const seen = new Promise<Error & { code?: string }>((resolve) => process.once("warning", resolve));
    loadDatabaseConfig({ DATABASE_URL: `${POOLER_URL}?sslmode=no-verify` });
    const warning = await seen;
    expect(warning.code).toBe("BALANSITY_TLS_UNVERIFIED");
    expect(warning.message).toMatch(/sslmode=no-verify in DATABASE_URL/);
  });

  it.each([
    ["local", "postgresql://postgres@127.0.0.1:5432/postgres"],
    ["supabase", POOLER_URL],
    ["self-hosted", "postgresql://app@db.internal:5432/app"],
  ])("is allowed and warned about in profile %s", (profile, url) => {
    const warnings: string[] = [];
    const config = loadDatabaseConfig(
      { DATABASE_PROFILE: profile, DATABASE_URL: url, DATABASE_SSL: "no-verify" },
      { warn: (message) => warnings.push(message) },
    );
    expect(config.ssl).toMatchObject({ mode: "no-verify", rootCert: undefined });
    expect(warnings).toHaveLength(1);
  });

  it("warns about nothing for every mode that verifies", () => {
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      const warnings: string[] = [];
      loadDatabaseConfig(
        { DATABASE_URL: POOLER_URL, DATABASE_SSL: mode, DATABASE_SSL_CA: caPath },
        { warn: (message) => warnings.push(message) },
      );
      expect(warnings, mode).toEqual([]);
    }
  });
});
