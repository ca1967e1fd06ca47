import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeCrashRun, runCrashScenario } from "./support/crash-scenario.ts";

const COUNT = 3_000;
const KILLS = 5;
/** The email queue's default concurrency: no more emails than this are claimed at once. */
const EMAIL_CONCURRENCY = 32;

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

describe("worker SIGKILLed five times while it sends 3,000 emails", () => {
  it("loses none; each duplicate is a counted resend of an email in flight at a kill, with its first Message-ID", async () => {
    const result = await runCrashScenario({ databaseUrl: db.url, pool, count: COUNT, kills: KILLS });
    console.info(`[worker-killed-repeatedly]\n${describeCrashRun(result)}`);

    // Nothing lost, nothing dead-lettered, every delivery recorded as sent.
    expect(result.lost).toEqual([]);
    expect(result.deadLetters).toBe(0);
    expect(result.notSent).toBe(0);
    // Every kill hit the worker with work in hand.
    for (const kill of result.kills) expect(kill.inFlight.length).toBeGreaterThan(0);

    // A duplicate carries its first copy's Message-ID, so mail clients fold it.
    expect(result.differentMessageIds).toEqual([]);
    // Every duplicate is an email that was in flight (claimed, no result) at a kill ...
    expect(result.unexplained).toEqual([]);
    for (const kill of result.kills) {
      // ... and no kill makes more duplicates than it left in flight (delivery log), which is at
      // most the queue's concurrency; nor more than the server had of them, plus one email per SMTP
      // connection whose DATA the server finished after the process died.
      expect(kill.inFlight.length).toBeLessThanOrEqual(EMAIL_CONCURRENCY);
      expect(kill.duplicates).toBeLessThanOrEqual(kill.inFlight.length);
      expect(kill.duplicates).toBeLessThanOrEqual(kill.inFlightAtServer + result.smtpConnections);
    }
    // The delivery log counts each resend.
    expect(result.uncountedResends).toEqual([]);
    expect(result.resendsInLog).not.toBeNull();
    expect(result.resendsInLog).toBeGreaterThanOrEqual(result.duplicates);
    expect(result.resendsInLog).toBeLessThanOrEqual(
      result.kills.reduce((sum, kill) => sum + kill.inFlight.length, 0),
    );
  }, 1_200_000);
});
