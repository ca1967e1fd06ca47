import { describe, expect, it } from "vitest";
import { EmailTemplateError, emailTemplateExamples, renderEmail } from "../src/index.ts";

const attachment = emailTemplateExamples.report_ready.attachment;

describe("report_ready and its PDF", () => {
  it("names the attached PDF below the signed link and hands the attachment to the sender", async () => {
    const email = await renderEmail({
      template: "report_ready",
      variables: emailTemplateExamples.report_ready,
    });

    expect(email.attachments).toEqual([attachment]);
    const link = email.text.indexOf("https://app.balansity.ru/reports/9b2f6c1e.pdf");
    const attached = email.text.indexOf("Отчёт также приложен к письму: balansity-wellbeing-2026-11-24.pdf.");
    expect(link).toBeGreaterThan(-1);
    expect(attached).toBeGreaterThan(link);
  });

  it("in English too", async () => {
    const email = await renderEmail({
      template: "report_ready",
      locale: "en",
      variables: emailTemplateExamples.report_ready,
    });
    expect(email.text).toContain(
      "The report is also attached to this email: balansity-wellbeing-2026-11-24.pdf.",
    );
  });

  it("without an attachment (too large) says to use the link and attaches nothing", async () => {
    const { attachment: _left, ...variables } = emailTemplateExamples.report_ready;
    const email = await renderEmail({ template: "report_ready", variables });

    expect(email.attachments).toBeUndefined();
    expect(email.text).toContain(
      "Отчёт слишком большой, чтобы приложить его к письму: скачайте его по ссылке.",
    );
  });

  it("refuses an attachment path that leaves the report folder, naming the field", async () => {
    const error = await renderEmail({
      template: "report_ready",
      variables: {
        ...emailTemplateExamples.report_ready,
        attachment: { ...attachment, storage_path: "../../etc/passwd" },
      } as never,
    }).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(EmailTemplateError);
    expect((error as Error).message).toContain('"attachment.storage_path"');
  });
});
