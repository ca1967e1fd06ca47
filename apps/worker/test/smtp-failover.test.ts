import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { SmtpFailover } from "../src/email/smtp-failover.ts";
import { isTransactional, transactionalTemplates } from "../src/email/transactional-read.ts";

function failoverAt(clock: { now: number }) {
  return new SmtpFailover({
    afterMs: 60_000,
    maxPauseMs: 300_000,
    logger: pino({ level: "silent" }),
    now: () => clock.now,
  });
}

describe("SmtpFailover", () => {
  it("turns on once the primary has been refusing for SMTP_FALLBACK_AFTER, and off when it works", () => {
    const clock = { now: 1_000_000 };
    const failover = failoverAt(clock);
    expect(failover.active).toBe(false);
    failover.primaryFailed("451 4.7.1");
    clock.now += 59_999;
    failover.primaryFailed("451 4.7.1");
    expect(failover.active).toBe(false);
    clock.now += 1;
    expect(failover.active).toBe(true);
    failover.primaryWorks();
    expect(failover.active).toBe(false);
  });

  it("starts a new run after a failure long after the last one (nothing met the primary between)", () => {
    const clock = { now: 1_000_000 };
    const failover = failoverAt(clock);
    failover.primaryFailed("connection refused");
    clock.now += 360_001;
    failover.primaryFailed("connection refused");
    expect(failover.active).toBe(false);
    clock.now += 60_000;
    expect(failover.active).toBe(true);
  });

  it("lets a transactional email try the primary at most once per 10 s while failing over", () => {
    const clock = { now: 1_000_000 };
    const failover = failoverAt(clock);
    expect(failover.tryPrimaryFirst()).toBe(true);
    failover.primaryFailed("451");
    clock.now += 60_000;
    expect(failover.tryPrimaryFirst()).toBe(true);
    expect(failover.tryPrimaryFirst()).toBe(false);
    clock.now += 9_999;
    expect(failover.tryPrimaryFirst()).toBe(false);
    clock.now += 1;
    expect(failover.tryPrimaryFirst()).toBe(true);
  });
});

describe("which email the fallback sends", () => {
  it("is tier 0 of emailSendTiers (confirmations, receipts, the 1-hour reminder, operator alerts) or priority 1", () => {
    expect(transactionalTemplates).toEqual([
      "appointment_confirmation",
      "appointment_cancelled",
      "payment_succeeded",
      "payment_failed",
      "payment_refunded",
      "appointment_reminder_1h",
      // An alert (dead letters piling up, say) must reach the operators while the primary is throttled.
      "operator_alert",
    ]);
    expect(isTransactional({ template: "payment_succeeded", priority: 0 })).toBe(true);
    expect(isTransactional({ template: "checkup_completed", priority: 1 })).toBe(true);
    expect(isTransactional({ template: "checkup_completed", priority: 0 })).toBe(false);
    expect(isTransactional({ template: "appointment_reminder_24h", priority: 0 })).toBe(false);
  });
});
