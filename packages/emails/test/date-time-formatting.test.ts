import { describe, expect, it } from "vitest";
import { renderEmail } from "../src/index.ts";

/** Dates carry no-break and thin spaces from Intl; compare them as a reader sees them. */
function asRead(text: string) {
  return text.replace(/[\u00a0\u2009\u202f]/g, " ");
}

async function reminderSubject(startsAt: string, options: { locale?: "ru" | "en"; timezone?: string } = {}) {
  const email = await renderEmail({
    template: "appointment_reminder_24h",
    ...options,
    variables: { appointment_id: "apt-1", starts_at: startsAt },
  });
  return asRead(email.subject);
}

describe("dates and times", () => {
  it("shows 2026-11-25T12:00:00Z as 15:00 in Europe/Moscow", async () => {
    expect(await reminderSubject("2026-11-25T12:00:00Z", { timezone: "Europe/Moscow" })).toBe(
      "Напоминание: консультация 25 ноября 2026 г., 15:00 (Москва)",
    );
  });

  it("uses Russian and Europe/Moscow when no locale or time zone is given", async () => {
    expect(await reminderSubject("2026-11-25T12:00:00Z")).toBe(
      "Напоминание: консультация 25 ноября 2026 г., 15:00 (Москва)",
    );
  });

  it("shows the same instant in the recipient's own time zone, named in their language", async () => {
    expect(await reminderSubject("2026-11-25T12:00:00Z", { timezone: "Asia/Yekaterinburg" })).toBe(
      "Напоминание: консультация 25 ноября 2026 г., 17:00 (Екатеринбург)",
    );
    expect(
      await reminderSubject("2026-11-25T12:00:00Z", { locale: "en", timezone: "America/New_York" }),
    ).toBe("Reminder: your consultation on November 25, 2026, 7:00 AM (ET)");
  });

  it("moves to the previous calendar day when the zone is far enough west", async () => {
    expect(
      await reminderSubject("2026-11-25T02:00:00Z", { locale: "en", timezone: "America/Los_Angeles" }),
    ).toBe("Reminder: your consultation on November 24, 2026, 6:00 PM (PT)");
  });

  it("follows summer time: Berlin is UTC+2 in July and UTC+1 in November", async () => {
    expect(await reminderSubject("2026-07-01T12:00:00Z", { timezone: "Europe/Berlin" })).toContain(
      "1 июля 2026 г., 14:00",
    );
    expect(await reminderSubject("2026-11-25T12:00:00Z", { timezone: "Europe/Berlin" })).toContain(
      "25 ноября 2026 г., 13:00",
    );
  });

  it("reads timestamps with an offset and microseconds, as Postgres writes timestamptz to JSON", async () => {
    expect(await reminderSubject("2026-11-25T15:00:00.123456+03:00")).toContain(
      "25 ноября 2026 г., 15:00 (Москва)",
    );
    expect(await reminderSubject("2026-11-25T20:00:00+08:00")).toContain("25 ноября 2026 г., 15:00 (Москва)");
  });

  it("shows an appointment's start and end as one range", async () => {
    const email = await renderEmail({
      template: "appointment_confirmation",
      variables: {
        appointment_id: "apt-1",
        starts_at: "2026-11-25T12:00:00Z",
        ends_at: "2026-11-25T13:30:00Z",
      },
    });
    expect(asRead(email.text)).toContain("Когда: 25 ноября 2026 г., 15:00–16:30 (Москва)");
  });

  it("shows both dates when an appointment crosses midnight in the recipient's zone", async () => {
    const email = await renderEmail({
      template: "appointment_confirmation",
      locale: "en",
      variables: {
        appointment_id: "apt-1",
        starts_at: "2026-11-25T20:30:00Z",
        ends_at: "2026-11-25T21:30:00Z",
      },
    });
    expect(asRead(email.text)).toMatch(
      /When: November 25, 2026.*11:30 PM.*November 26, 2026.*12:30 AM.*\(Moscow Time\)/,
    );
  });

  it("shows only the time, with the zone, in the one-hour reminder's subject", async () => {
    const email = await renderEmail({
      template: "appointment_reminder_1h",
      timezone: "Asia/Vladivostok",
      variables: { appointment_id: "apt-1", starts_at: "2026-11-25T12:00:00Z" },
    });
    expect(asRead(email.subject)).toBe("Консультация скоро начнётся: в 22:00 (Владивосток)");
  });
});
