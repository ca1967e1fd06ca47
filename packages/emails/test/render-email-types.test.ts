import { describe, expect, expectTypeOf, it } from "vitest";
import {
  EmailTemplateError,
  type EmailTemplateName,
  type EmailTemplateVariables,
  emailTemplateNames,
  isEmailTemplateName,
  type RenderEmailInput,
  renderEmail,
} from "../src/index.ts";

// `tsc -p tsconfig.json` checks this file too: the @ts-expect-error lines fail the typecheck if
// the types stop catching these mistakes. At run time the same mistakes are caught again.

describe("renderEmail's input type", () => {
  it("checks variables against a known template at compile time, and again at run time", async () => {
    // @ts-expect-error report_url is required by report_ready
    const missingUrl = renderEmail({ template: "report_ready", variables: { assessment_id: "a-1" } });
    await expect(missingUrl).rejects.toThrow('variable "report_url" is required');

    // @ts-expect-error a misspelt template name leaves no variables that could fit
    const misspelt = renderEmail({ template: "report_redy", variables: { assessment_id: "a-1" } });
    await expect(misspelt).rejects.toBeInstanceOf(EmailTemplateError);
  });

  it("accepts a template name read from a message as a plain string, with unknown variables", async () => {
    const message: { template: string; variables: unknown } = {
      template: "payment_failed",
      variables: { payment_id: "p-1", amount: 10, currency: "RUB" },
    };
    expectTypeOf<RenderEmailInput<string>["variables"]>().toBeUnknown();

    const email = await renderEmail(message);
    expect(email.subject).toContain("Оплата не прошла");
  });

  it("accepts a parsed email_queue message, whose template is the union of all names", async () => {
    const message: {
      template: EmailTemplateName;
      variables: Record<string, unknown>;
      locale: "ru" | "en";
      timezone: string;
    } = {
      template: "report_ready",
      variables: { assessment_id: "a-1", report_url: "https://app.balansity.ru/r/a-1.pdf" },
      locale: "en",
      timezone: "Europe/Moscow",
    };
    expectTypeOf<RenderEmailInput<EmailTemplateName>["variables"]>().toBeUnknown();

    const email = await renderEmail(message);
    expect(email.subject).toBe("Your report is ready");
  });

  it("narrows a string to a template name", () => {
    const name: string = "report_ready";
    expect(isEmailTemplateName(name)).toBe(true);
    expect(isEmailTemplateName("report_redy")).toBe(false);
    expectTypeOf(emailTemplateNames).toEqualTypeOf<
      readonly [
        "checkup_completed",
        "report_ready",
        "appointment_confirmation",
        "appointment_reminder_24h",
        "appointment_reminder_1h",
        "payment_succeeded",
        "payment_failed",
        "payment_refunded",
        "appointment_cancelled",
        "operator_alert",
      ]
    >();
    expectTypeOf<EmailTemplateVariables<"payment_succeeded">["amount"]>().toEqualTypeOf<number>();
    expectTypeOf<EmailTemplateName>().toEqualTypeOf<(typeof emailTemplateNames)[number]>();
  });
});
