/**
 * What the worker exposes when nobody configured otherwise: the ops server on loopback, /metrics from
 * a snapshot at most every 5 s, no SMTP password in clear over the network, no secret in a log line at
 * any depth.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { ConfigError } from "@balansity/db";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { createLogger } from "../src/ops/create-logger.ts";
import { WorkerMetrics } from "../src/ops/worker-metrics.ts";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/postgres",
  SMTP_HOST: "smtp.example.net",
  SMTP_FROM: "noreply@balansity.test",
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration defaults", () => {
  it("binds the ops server to 127.0.0.1 unless told otherwise", () => {
    expect(loadConfig(base).http.host).toBe("127.0.0.1");
    expect(loadConfig({ ...base, WORKER_HTTP_HOST: "0.0.0.0" }).http.host).toBe("0.0.0.0");
  });

  it("refuses SMTP AUTH over a plaintext connection to a host that is not this machine", () => {
    const pass = randomBytes(9).toString("hex");
    const auth = { SMTP_USER: "worker", SMTP_PASS: pass, SMTP_SECURE: "none" };
    const error = configError({ ...base, ...auth });
    expect(error.issues).toEqual([
      "SMTP_USER/SMTP_PASS with SMTP_SECURE=none would send the SMTP password to smtp.example.net in clear: set SMTP_SECURE=starttls (port 587) or tls (port 465); plaintext AUTH is only accepted to a loopback relay",
    ]);
    expect(error.message).not.toContain(pass);
    // A relay on this machine, TLS of either kind, or no AUTH at all: accepted.
    for (const host of ["127.0.0.1", "localhost", "::1"]) {
      expect(loadConfig({ ...base, ...auth, SMTP_HOST: host }).smtp.security).toBe("none");
    }
    expect(loadConfig({ ...base, ...auth, SMTP_SECURE: "starttls" }).smtp.security).toBe("starttls");
    expect(loadConfig({ ...base, SMTP_SECURE: "none" }).smtp.security).toBe("none");
  });
});

describe("/metrics from a snapshot", () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase("migrated");
    pool = new pg.Pool({ connectionString: db.url });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("reads pgmq's queue metrics at most once per 5 s, however many scrapes come, and again after", async () => {
    let reads = 0;
    const counting = {
      query: (text: string, values?: unknown[]) => {
        if (text.includes("metrics_all")) reads += 1;
        return pool.query(text, values);
      },
    };
    let clock = 1_000_000;
    const metrics = new WorkerMetrics(counting, { now: () => clock });
    const scrapes = await Promise.all([1, 2, 3].map(() => metrics.registry.metrics()));
    expect(reads).toBe(1);
    expect(scrapes[0]).toMatch(/balansity_queue_depth\{queue="email_queue"\} 0/);
    clock += 4_999;
    await metrics.registry.metrics();
    expect(reads).toBe(1);
    await pool.query("select pgmq.send('email_queue', '{}'::jsonb)");
    clock += 1;
    const fresh = await metrics.registry.metrics();
    expect(reads).toBe(2);
    expect(fresh).toMatch(/balansity_queue_depth\{queue="email_queue"\} 1/);
  });
});

describe("log redaction", () => {
  it("removes secrets at any depth, in errors too, and passwords inside connection strings", async () => {
    const secret = randomBytes(12).toString("hex");
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = await createLogger({ logLevel: "info", logFormat: "json" }, sink);
    const error = Object.assign(
      new Error(`connect to postgresql://app:${secret}@db.internal:5432/app failed`),
      {
        config: { transport: { auth: { user: "worker", pass: secret } } },
      },
    );
    logger.error(
      {
        err: error,
        smtp: { pool: { options: { auth: { user: "worker", password: secret } } } },
        payments: [{ provider: { secretKey: secret, shopId: "shop-1" } }],
        headers: { Authorization: `Bearer ${secret}` },
        supabase: { serviceRoleKey: secret },
      },
      "sending failed",
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line).not.toContain(secret);
    const logged = JSON.parse(line);
    // What is not secret stays readable.
    const redactedUrl = ["postgresql://app:", "[redacted]", "@db.internal:5432/app"].join("");
    expect(logged.err.message).toBe(`connect to ${redactedUrl} failed`);
    expect(logged.err.config.transport.auth).toEqual({ user: "worker", pass: "[redacted]" });
    expect(logged.smtp.pool.options.auth.user).toBe("worker");
    expect(logged.payments[0].provider.shopId).toBe("shop-1");
    expect(logged.msg).toBe("sending failed");
  });
});
