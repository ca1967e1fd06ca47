import { describe, expect, it } from "vitest";
import {
  EmailTemplateError,
  emailTemplateExamples,
  type RenderEmailInput,
  renderEmail,
} from "../src/index.ts";

/** Renders and returns the error it must reject with. */
async function renderError(input: RenderEmailInput<string>): Promise<EmailTemplateError> {
  const error: unknown = await renderEmail(input).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof EmailTemplateError))
    throw new Error(`expected an EmailTemplateError, got ${String(error)}`);
  return error;
}

describe("an unknown template", () => {
  it("is rejected with code unknown_template, naming the template and the known ones", async () => {
    const error = await renderError({ template: "welcome_letter", variables: {} });

    expect(error.code).toBe("unknown_template");
    expect(error.template).toBe("welcome_letter");
    expect(error.message).toMatch(
      /^template "welcome_letter": is not a known email template \(known: checkup_completed, /,
    );
    expect(error.message).toContain("payment_failed");
  });
});

describe("variables", () => {
  it('names a missing variable: template "appointment_reminder_24h": variable "starts_at" is required', async () => {
    const error = await renderError({
      template: "appointment_reminder_24h",
      variables: { appointment_id: "apt-1" },
    });

    expect(error.code).toBe("invalid_variables");
    expect(error.message).toBe('template "appointment_reminder_24h": variable "starts_at" is required');
    expect(error.issues).toEqual([{ field: "starts_at", problem: "is required" }]);
  });

  it("lists every missing or invalid variable at once", async () => {
    const error = await renderError({
      template: "payment_failed",
      variables: { amount: "ten", currency: "RUB", retry_url: "not a url" },
    });

    expect(error.issues.map((issue) => issue.field)).toEqual(["payment_id", "amount", "retry_url"]);
    expect(error.message).toBe(
      'template "payment_failed": variable "payment_id" is required; ' +
        'variable "amount" must be a number (major units, e.g. 1500.5); ' +
        'variable "retry_url" must be an absolute http(s) URL',
    );
  });

  it("treats null in a required variable as missing", async () => {
    const error = await renderError({
      template: "report_ready",
      variables: { assessment_id: "a-1", report_url: null },
    });
    expect(error.message).toBe('template "report_ready": variable "report_url" is required');
  });

  it("rejects a blank required text", async () => {
    const error = await renderError({ template: "checkup_completed", variables: { assessment_id: "   " } });
    expect(error.message).toBe('template "checkup_completed": variable "assessment_id" must not be empty');
  });

  it("rejects a timestamp without a time zone offset, which would be read in the server's zone", async () => {
    const error = await renderError({
      template: "appointment_confirmation",
      variables: { appointment_id: "apt-1", starts_at: "2026-11-25 15:00" },
    });
    expect(error.message).toContain(
      'variable "starts_at" must be an ISO 8601 timestamp with a time zone offset',
    );
  });

  it("rejects an appointment that ends before it starts", async () => {
    const error = await renderError({
      template: "appointment_confirmation",
      variables: {
        appointment_id: "apt-1",
        starts_at: "2026-11-25T12:00:00Z",
        ends_at: "2026-11-25T11:00:00Z",
      },
    });
    expect(error.message).toBe(
      'template "appointment_confirmation": variable "ends_at" must be later than starts_at',
    );
  });

  it.each([
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://example.com/report.pdf",
  ])("rejects a link that is not http(s): %s", async (url) => {
    const error = await renderError({
      template: "report_ready",
      variables: { assessment_id: "a-1", report_url: url },
    });
    expect(error.message).toBe(
      'template "report_ready": variable "report_url" must be an absolute http(s) URL',
    );
  });

  it("says so when variables is not an object at all", async () => {
    const error = await renderError({ template: "report_ready", variables: "report.pdf" });
    expect(error.message).toBe('template "report_ready": variables must be an object, got string');
  });

  it("accepts null for optional variables, as jsonb_build_object writes a missing column", async () => {
    const email = await renderEmail({
      template: "appointment_confirmation",
      variables: {
        appointment_id: "apt-1",
        starts_at: "2026-11-25T12:00:00Z",
        ends_at: null,
        consultant_name: null,
        user_name: null,
        meeting_url: null,
      },
    });
    expect(email.text).toContain("Здравствуйте!");
    expect(email.text).not.toContain("Консультант");
  });

  it("ignores variables the template does not use, so producers can add fields first", async () => {
    const email = await renderEmail({
      template: "report_ready",
      variables: { ...emailTemplateExamples.report_ready, report_pages: 12 } as never,
    });
    expect(email.subject).toBe("Отчёт по чекапу «Баланс жизни» готов");
  });
});

describe("locale and time zone", () => {
  it("rejects an unsupported locale and an unknown time zone with code invalid_options", async () => {
    const error = await renderError({
      template: "report_ready",
      locale: "de" as never,
      timezone: "Mars/Olympus_Mons",
      variables: emailTemplateExamples.report_ready,
    });

    expect(error.code).toBe("invalid_options");
    expect(error.message).toBe(
      'template "report_ready": locale "de" is not supported (use "ru" or "en"); ' +
        'timezone "Mars/Olympus_Mons" is not an IANA time zone (e.g. "Europe/Moscow")',
    );
  });
});

describe("EmailTemplateError", () => {
  it("is an Error with a stable name, so loggers and instanceof checks see it", async () => {
    const error = await renderError({ template: "nope", variables: {} });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("EmailTemplateError");
    expect(Object.isFrozen(error.issues)).toBe(true);
  });
});
