import { describe, expect, it } from "vitest";
import { createEmailFormatter } from "../src/intl-format.ts";

// 2026-11-25 22:30 UTC is already the 26th in Moscow and still the 25th in New York.
const lateEvening = "2026-11-25T22:30:00Z";

describe("createEmailFormatter", () => {
  it("formats in the recipient's language and zone, each zone on its own", () => {
    expect(createEmailFormatter("ru", "Europe/Moscow").dateTime(lateEvening)).toBe(
      "26 ноября 2026 г., 1:30 (Москва)",
    );
    expect(createEmailFormatter("en", "America/New_York").dateTime(lateEvening)).toMatch(
      /^November 25, 2026, 5:30\sPM \(.+\)$/,
    );
    expect(createEmailFormatter("ru", "Europe/Moscow").money(1500, "RUB")).toBe("1\u00a0500,00\u00a0₽");
    expect(createEmailFormatter("ru", "Europe/Moscow").money(15, "EUR")).toBe("15,00\u00a0€");
  });

  it("makes one formatter per language and zone and reuses it", () => {
    const moscow = createEmailFormatter("ru", "Europe/Moscow");
    expect(createEmailFormatter("ru", "Europe/Moscow")).toBe(moscow);
    expect(createEmailFormatter("en", "Europe/Moscow")).not.toBe(moscow);
    expect(createEmailFormatter("ru", "Asia/Vladivostok")).not.toBe(moscow);
  });

  it("stays right when more zones were asked for than it keeps", () => {
    const zones = Intl.supportedValuesOf("timeZone");
    expect(zones.length).toBeGreaterThan(300);
    for (const zone of zones) createEmailFormatter("en", zone);
    expect(createEmailFormatter("ru", "Europe/Moscow").time(lateEvening)).toBe("1:30 (Москва)");
    expect(createEmailFormatter("ru", "Asia/Vladivostok").time(lateEvening)).toMatch(/^8:30 \(.+\)$/);
  });

  it("refuses a zone the runtime does not know, every time", () => {
    expect(() => createEmailFormatter("ru", "Mars/Olympus")).toThrow(RangeError);
    expect(() => createEmailFormatter("ru", "Mars/Olympus")).toThrow(RangeError);
  });
});
