import { describe, expect, it } from "vitest";
import { renderEmail } from "../src/index.ts";

const script = "<script>alert(1)</script>";
const image = '<img src=x onerror="alert(2)">';

describe("user-provided values", () => {
  it("appear as text, never as markup, in every place a template puts them", async () => {
    const emails = await Promise.all([
      renderEmail({
        template: "checkup_completed",
        variables: { assessment_id: script, assessment_title: image, user_name: script },
      }),
      renderEmail({
        template: "appointment_confirmation",
        variables: { appointment_id: script, starts_at: "2026-11-25T12:00:00Z", consultant_name: image },
      }),
      renderEmail({
        template: "payment_failed",
        variables: {
          payment_id: "p-1",
          amount: 1,
          currency: "RUB",
          description: script,
          failure_reason: image,
        },
      }),
    ]);

    for (const { html, text } of emails) {
      expect(html).not.toContain("<script");
      expect(html).not.toContain("<img");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html).toContain("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;");
      // The plain-text part is not HTML: there a value reads exactly as the user wrote it.
      expect(text).toContain(script);
      expect(text).toContain(image);
    }
  });

  it("cannot break out of a link's href attribute", async () => {
    const email = await renderEmail({
      template: "report_ready",
      variables: {
        assessment_id: "a-1",
        report_url: 'https://app.balansity.ru/r?x="><script>alert(1)</script>',
      },
    });

    expect(email.html).not.toContain("<script");
    expect(email.html).toContain('href="https://app.balansity.ru/r?x=&quot;&gt;&lt;script&gt;');
  });

  it("cannot add a header through a line break in the subject", async () => {
    const email = await renderEmail({
      template: "checkup_completed",
      variables: { assessment_id: "a-1", assessment_title: "Баланс\r\nBcc: victim@example.com" },
    });

    expect(email.subject).toBe("Чекап «Баланс Bcc: victim@example.com» завершён");
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});
