import { createTestDatabase, devstackInfo, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorChecks } from "../src/checks/index.ts";
import { runOne } from "./support/run-in-transaction.ts";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("doctor on a freshly migrated database", () => {
  it.each(doctorChecks.map((check) => [check.name, check] as const))("%s passes", async (_name, check) => {
    const result = await runOne(client, check);
    expect(result.findings.filter((finding) => finding.severity === "fail")).toEqual([]);
    // Test databases are clones outside pg_cron's database: the only warning is the scheduler one.
    if (check.name !== "extensions") expect(result.findings).toEqual([]);
  });

  it("warns, and does not fail, that the worker's scheduler runs the jobs where pg_cron is absent", async () => {
    const result = await runOne(client, doctorChecks.find((check) => check.name === "extensions")!);
    expect(result.status).toBe("warn");
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: "warn",
        // With pg_cron preloaded it lives in one other database; on a server without it, nowhere.
        problem: expect.stringContaining(
          devstackInfo().pgCron
            ? `pg_cron is not installed in database ${db.name} (it lives in database ${devstackInfo().cronDatabase})`
            : `pg_cron is not installed in database ${db.name} (not available on this server)`,
        ),
      }),
    ]);
    expect(result.findings[0]?.problem).toContain(
      "the worker's scheduler runs the jobs (WORKER_SCHEDULER=auto)",
    );
  });

  it("says which pgmq it found", async () => {
    const result = await runOne(client, doctorChecks.find((check) => check.name === "extensions")!);
    expect(result.note).toMatch(
      devstackInfo().pgmqExtension
        ? /^pgmq extension \d+\.\d+/
        : /^pgmq-compatible SQL \(schema pgmq, no extension/,
    );
  });

  it("says the jobs are run by the worker's scheduler and none has run yet", async () => {
    const result = await runOne(client, doctorChecks.find((check) => check.name === "cron-jobs")!);
    expect(result.note).toMatch(/^\d+ enabled jobs, run by the worker's scheduler \(no runs recorded yet\)$/);
  });
});
