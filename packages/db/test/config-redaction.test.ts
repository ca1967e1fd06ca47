import { describe, expect, it } from "vitest";
import { describeDatabaseConfig, loadDatabaseConfig, redactConnectionString } from "../src/index.ts";

const PASSWORD = "example-password-not-real";
const POOLER_URL = `postgresql://postgres.project-ref:${PASSWORD}@aws-0-eu-north-1.pooler.supabase.com:6543/postgres`;

describe("redactConnectionString", () => {
  it("replaces the password and keeps everything else", () => {
    expect(redactConnectionString(`${POOLER_URL}?sslmode=verify-full`)).toBe(
      "postgresql://postgres.project-ref:***@aws-0-eu-north-1.pooler.supabase.com:6543/postgres?sslmode=verify-full",
    );
  });

  it("leaves a URL without a password as it is", () => {
    expect(redactConnectionString("postgresql://postgres@localhost:5432/postgres")).toBe(
      "postgresql://postgres@localhost:5432/postgres",
    );
  });

  it("redacts a password query parameter and a keyword/value password", () => {
    expect(redactConnectionString(`postgresql://localhost/postgres?user=u&password=${PASSWORD}`)).toBe(
      "postgresql://localhost/postgres?user=u&password=***",
    );
    expect(redactConnectionString(`host=localhost user=postgres password=${PASSWORD} dbname=postgres`)).toBe(
      "host=localhost user=postgres password=*** dbname=postgres",
    );
    expect(redactConnectionString(`host=localhost password='${PASSWORD} x' dbname=postgres`)).toBe(
      "host=localhost password=*** dbname=postgres",
    );
  });

  it("never echoes a connection string it cannot parse", () => {
    const broken = `postgresql://postgres:${PASSWORD}@db.example.com:99999/postgres`;
    expect(redactConnectionString(broken)).toBe("[unparseable connection string]");
  });

  it("drops what follows an unencoded '#' in the password", () => {
    const redacted = redactConnectionString(`postgresql://postgres:abc#${PASSWORD}@db.example.com/postgres`);
    expect(redacted).not.toContain(PASSWORD);
  });
});

// A placeholder certificate given as PEM text: it is only parsed here, never used to connect.
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("describeDatabaseConfig", () => {
  it("describes the target, TLS and pooling in one line without the password", () => {
    const line = describeDatabaseConfig(
      loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL_CA: PEM, DATABASE_PROFILE: "supabase" }),
    );
    expect(line).toBe(
      "postgres.project-ref@aws-0-eu-north-1.pooler.supabase.com:6543/postgres " +
        "(ssl verify-full, ca from DATABASE_SSL_CA, transaction pooling via Supabase pooler, pool max 10, " +
        "application balansity, profile supabase)",
    );
    expect(line).not.toContain(PASSWORD);
  });

  it("flags no-verify as insecure", () => {
    const line = describeDatabaseConfig(
      loadDatabaseConfig({ DATABASE_URL: POOLER_URL, DATABASE_SSL: "no-verify" }, { warn: () => undefined }),
    );
    expect(line).toContain("ssl no-verify (INSECURE: certificate not checked)");
  });
});
