import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { createDb, createPool, loadDatabaseConfig, toPoolConfig } from "../src/index.ts";

const PASSWORD = "example-password-not-real";
const POOLER_URL = `postgresql://postgres.project-ref:${PASSWORD}@aws-0-eu-north-1.pooler.supabase.com:6543/postgres`;

function ssl(env: Record<string, string>): false | ConnectionOptions {
  return toPoolConfig(loadDatabaseConfig(env)).ssl as false | ConnectionOptions;
}

describe("toPoolConfig: TLS options by mode", () => {
  const caPath = join(mkdtempSync(join(tmpdir(), "db-pool-")), "ca.crt");
  writeFileSync(caPath, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

  it("verify-full checks the chain against the CA file and the host name", () => {
    const options = ssl({ DATABASE_URL: POOLER_URL, DATABASE_SSL_ROOT_CERT: caPath });
    expect(options).toEqual({
      rejectUnauthorized: true,
      servername: "aws-0-eu-north-1.pooler.supabase.com",
      ca: expect.stringContaining("BEGIN CERTIFICATE"),
    });
  });

  it("verify-full on an IP address leaves the TLS server name unset (Node refuses an IP there)", () => {
    const options = ssl({ DATABASE_URL: "postgresql://u@10.0.0.5/app" });
    expect(options).toEqual({ rejectUnauthorized: true });
  });

  it.each(["verify-ca", "require"])("%s checks the chain but not the host name", (mode) => {
    const options = ssl({ DATABASE_URL: POOLER_URL, DATABASE_SSL: mode, DATABASE_SSL_ROOT_CERT: caPath });
    expect(options).toMatchObject({
      rejectUnauthorized: true,
      ca: expect.stringContaining("BEGIN CERTIFICATE"),
    });
    if (options === false) throw new Error("expected TLS options");
    expect("servername" in options).toBe(false);
    expect(typeof options.checkServerIdentity).toBe("function");
    expect(options.checkServerIdentity?.("other.example.com", {} as never)).toBeUndefined();
  });

  it("no-verify turns verification off, and only no-verify does", () => {
    expect(ssl({ DATABASE_URL: POOLER_URL, DATABASE_SSL: "no-verify" })).toEqual({
      rejectUnauthorized: false,
    });
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      expect(ssl({ DATABASE_URL: POOLER_URL, DATABASE_SSL: mode, DATABASE_SSL_CA: caPath })).toMatchObject({
        rejectUnauthorized: true,
      });
    }
  });

  it("disable sends no TLS options", () => {
    expect(ssl({ DATABASE_URL: "postgresql://postgres@localhost/postgres" })).toBe(false);
  });

  it("passes pool size, timeouts, application name and the password only when there is one", () => {
    const withPassword = toPoolConfig(
      loadDatabaseConfig({
        DATABASE_URL: POOLER_URL.replace(":6543", ":5432"),
        DATABASE_SSL_CA: caPath,
        DATABASE_POOL_MAX: "4",
        DATABASE_STATEMENT_TIMEOUT_MS: "1500",
        DATABASE_CONNECT_TIMEOUT_MS: "2500",
        DATABASE_APPLICATION_NAME: "balansity-test",
      }),
    );
    expect(withPassword).toMatchObject({
      password: PASSWORD,
      max: 4,
      statement_timeout: 1500,
      connectionTimeoutMillis: 2500,
      application_name: "balansity-test",
    });
    const withoutPassword = toPoolConfig(
      loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres@localhost/postgres" }),
    );
    expect("password" in withoutPassword).toBe(false);
    expect("statement_timeout" in withoutPassword).toBe(false);
  });
});

describe("createPool and createDb against a real database", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("bare");
  });
  afterAll(() => database.drop());

  it("connects with TLS disabled and applies application_name and statement_timeout", async () => {
    const config = loadDatabaseConfig({
      DATABASE_URL: database.url,
      DATABASE_APPLICATION_NAME: "balansity-pool-test",
      DATABASE_STATEMENT_TIMEOUT_MS: "1234",
    });
    expect(config.ssl.mode).toBe("disable");
    const pool = createPool(config);
    try {
      const { rows } = await pool.query<{
        application_name: string;
        statement_timeout: string;
        ssl: boolean;
      }>(
        `select current_setting('application_name') as application_name,
                current_setting('statement_timeout') as statement_timeout,
                coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl`,
      );
      expect(rows[0]).toEqual({
        application_name: "balansity-pool-test",
        statement_timeout: "1234ms",
        ssl: false,
      });
    } finally {
      await pool.end();
    }
  });

  it("asks for TLS when a mode requires it (the test server has none, so the connection is refused)", async () => {
    const pool = createPool(loadDatabaseConfig({ DATABASE_URL: database.url, DATABASE_SSL: "require" }));
    try {
      await expect(pool.query("select 1")).rejects.toThrow(/does not support SSL/);
    } finally {
      await pool.end();
    }
  });

  it("gives a kysely instance that runs queries on the pool", async () => {
    const db = createDb(createPool(loadDatabaseConfig({ DATABASE_URL: database.url })));
    try {
      const { rows } = await sql<{ answer: number }>`select 6 * 7 as answer`.execute(db);
      expect(rows).toEqual([{ answer: 42 }]);
    } finally {
      await db.destroy();
    }
  });
});
