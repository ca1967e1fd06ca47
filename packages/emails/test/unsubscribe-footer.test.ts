import { describe, expect, it } from "vitest";
import { renderEmail } from "../src/index.ts";

const variables = {
  appointment_id: "a-42",
  starts_at: "2026-11-25T12:00:00Z",
  consultant_name: "Анна",
};
const url = "https://ref.supabase.co/functions/v1/unsubscribe?token=abc.def";

describe("the unsubscribe line in the footer", () => {
  it.each([
    ["ru", "Отписаться от напоминаний"],
    ["en", "Unsubscribe from reminders"],
  ] as const)("shows the link given (%s), in the html and the text", async (locale, words) => {
    const email = await renderEmail({
      template: "appointment_reminder_24h",
      locale,
      variables,
      unsubscribeUrl: url,
    });
    expect(email.html).toContain(`href="${url}"`);
    expect(email.html).toContain(words);
    expect(email.text).toContain(url);
  });

  it("is absent without a link", async () => {
    const email = await renderEmail({ template: "appointment_reminder_24h", locale: "en", variables });
    expect(email.html).not.toContain("Unsubscribe");
    expect(email.html).not.toContain("unsubscribe");
  });
});
