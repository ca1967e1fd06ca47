import { describe, expect, it } from "vitest";
import { formatCompletionDate, isoDateIn } from "../src/report-copy.ts";

// 22:30 UTC on the 25th is already the 26th in Moscow.
const lateEvening = new Date("2026-11-25T22:30:00Z");

describe("report dates", () => {
  it("are the user's calendar day in the user's language, zone by zone", () => {
    expect(formatCompletionDate(lateEvening, "ru", "Europe/Moscow")).toBe("26 ноября 2026 г.");
    expect(formatCompletionDate(lateEvening, "ru", "UTC")).toBe("25 ноября 2026 г.");
    expect(formatCompletionDate(lateEvening, "en", "Europe/Moscow")).toBe("26 November 2026");
    expect(isoDateIn(lateEvening, "Europe/Moscow")).toBe("2026-11-26");
    expect(isoDateIn(lateEvening, "UTC")).toBe("2026-11-25");
  });

  it("stay right when more zones were asked for than the formats it keeps", () => {
    for (const zone of Intl.supportedValuesOf("timeZone")) isoDateIn(lateEvening, zone);
    expect(isoDateIn(lateEvening, "Europe/Moscow")).toBe("2026-11-26");
    expect(formatCompletionDate(lateEvening, "ru", "UTC")).toBe("25 ноября 2026 г.");
  });
});
