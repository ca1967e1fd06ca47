// Version 0 of the catalog: the seed-era message shapes, parsed and upgraded to version 1.
import { describe, expect, it } from "vitest";
import { parseLegacyMessage } from "../src/consumer/index.ts";
import {
  isLegacyMessage,
  LegacyMessageError,
  legacyEmailPriority,
  legacyIdempotencyKey,
  queueCatalog,
  upgradeLegacyEvent,
  upgradeLegacyPayment,
  upgradeLegacyReport,
} from "../src/index.ts";

const assessmentId = "aaaaaaaa-0000-4000-8000-000000000001";
const userId = "bbbbbbbb-0000-4000-8000-000000000002";
const enqueuedAt = new Date("2026-11-20T10:00:00Z");

describe("seed-era messages", () => {
  it("are the JSON objects without a version", () => {
    expect(isLegacyMessage({ to: "a@b.ru", template: "report_ready" })).toBe(true);
    expect(isLegacyMessage({ version: 1, to: "a@b.ru" })).toBe(false);
    expect(isLegacyMessage("hello")).toBe(false);
    expect(isLegacyMessage([])).toBe(false);
  });

  it("parse in the seed-era email shape with any integer priority and thin variables", () => {
    const parsed = parseLegacyMessage("email_queue", {
      to: "ivan@example.com",
      subject: "Ваш отчет готов",
      template: "report_ready",
      variables: { name: "Иван" },
      priority: 10,
    });
    expect(parsed.ok && parsed.message).toMatchObject({ template: "report_ready", priority: 10 });
    expect(legacyEmailPriority(10)).toBe(1);
    expect(legacyEmailPriority(0)).toBe(0);
    expect(legacyEmailPriority(-5)).toBe(0);
    expect(legacyEmailPriority(undefined)).toBe(0);
  });

  it("name every bad field in the seed-era shape", () => {
    const parsed = parseLegacyMessage("email_queue", { to: "nobody", template: "", priority: 1.5 });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.fields.map((field) => field.path)).toEqual(["to", "template", "priority"]);
    expect(!parsed.ok && parsed.issues[0]).toContain("email_queue message (seed-era shape)");
  });

  it("become version-1 report and payment jobs keyed by queue and msg_id", () => {
    const report = parseLegacyMessage("report_generation_queue", {
      assessment_id: assessmentId,
      user_id: userId,
      report_type: "pdf",
    });
    expect(report.ok).toBe(true);
    if (!report.ok) return;
    const upgraded = upgradeLegacyReport(report.message, 42);
    expect(upgraded.idempotency_key).toBe("legacy:report_generation_queue:42");
    expect(queueCatalog.report_generation_queue.schema.parse(upgraded)).toEqual(upgraded);

    const payment = parseLegacyMessage("payment_processing_queue", { payment_id: userId, action: "verify" });
    expect(payment.ok).toBe(true);
    if (!payment.ok) return;
    const job = upgradeLegacyPayment(payment.message, "7");
    expect(job).toEqual({
      version: 1,
      idempotency_key: legacyIdempotencyKey("payment_processing_queue", 7),
      payment_id: userId,
      action: "verify",
    });
  });

  it("become version-1 events: the name mapped, the entity and time found, the data kept", () => {
    const parsed = parseLegacyMessage("analytics_queue", {
      event_type: "appointment_created",
      user_id: userId,
      appointment_id: assessmentId,
      data: { source: "web" },
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const event = upgradeLegacyEvent(parsed.message, 9, enqueuedAt);
    expect(event).toEqual({
      version: 1,
      idempotency_key: "legacy:analytics_queue:9",
      event: "appointment_booked",
      entity_id: assessmentId,
      user_id: userId,
      occurred_at: enqueuedAt.toISOString(),
      properties: { source: "web" },
    });
    expect(queueCatalog.analytics_queue.schema.parse(event)).toEqual(event);
  });

  it("refuse an event without a name, and an event name we do not count", () => {
    const nameless = parseLegacyMessage("analytics_queue", { user_id: userId });
    expect(!nameless.ok && nameless.fields.map((field) => field.path)).toEqual(["event"]);

    const parsed = parseLegacyMessage("analytics_queue", { event: "page_viewed" });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(() => upgradeLegacyEvent(parsed.message, 1, enqueuedAt)).toThrow(LegacyMessageError);
    expect(() => upgradeLegacyEvent(parsed.message, 1, enqueuedAt)).toThrow('"page_viewed"');
  });
});
