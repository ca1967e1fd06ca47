import nodemailer from "nodemailer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ReceivedMessage, type SmtpSink, startSmtpSink } from "../src/smtp-sink.ts";

describe("SMTP sink attachments", () => {
  let sink: SmtpSink;
  let transport: ReturnType<typeof nodemailer.createTransport>;
  const pdf = Buffer.from("%PDF-1.7\n% отчёт\n%%EOF\n", "utf8");
  const csv = Buffer.from("score,72\n");

  beforeAll(async () => {
    sink = await startSmtpSink({ maxMessages: 2 });
    transport = nodemailer.createTransport({
      host: sink.host,
      port: sink.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
  });
  beforeEach(() => sink.clear());
  afterAll(async () => {
    transport.close();
    await sink.stop();
  });

  async function sendWithAttachments(subject = "report"): Promise<ReceivedMessage> {
    await transport.sendMail({
      from: "noreply@balansity.test",
      to: "anna@example.com",
      subject,
      text: "see attached",
      attachments: [
        { filename: "отчёт.pdf", content: pdf, contentType: "application/pdf" },
        { filename: "scores.csv", content: csv, contentType: "text/csv" },
      ],
    });
    const messages = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    return messages.at(-1) as ReceivedMessage;
  }

  it("lists each attachment's name, type and size in the JSON view", async () => {
    const message = await sendWithAttachments();

    const response = await fetch(`${sink.url}/messages/${message.id}`);
    const body = (await response.json()) as ReceivedMessage;
    expect(body.attachments).toEqual([
      { filename: "отчёт.pdf", contentType: "application/pdf", size: pdf.length },
      { filename: "scores.csv", contentType: "text/csv", size: csv.length },
    ]);
  });

  it("serves an attachment's bytes by index with its content type and file name", async () => {
    const message = await sendWithAttachments();

    const response = await fetch(`${sink.url}/messages/${message.id}/attachments/0`);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent("отчёт.pdf")}`,
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it("serves an attachment by its (encoded) file name", async () => {
    const message = await sendWithAttachments();

    const byName = await fetch(`${sink.url}/messages/${message.id}/attachments/scores.csv`);
    expect(Buffer.from(await byName.arrayBuffer()).equals(csv)).toBe(true);
    const cyrillic = await fetch(
      `${sink.url}/messages/${message.id}/attachments/${encodeURIComponent("отчёт.pdf")}`,
    );
    expect(Buffer.from(await cyrillic.arrayBuffer()).equals(pdf)).toBe(true);
    expect(sink.attachment(message.id, "scores.csv")?.content.equals(csv)).toBe(true);
  });

  it("answers 404 for an attachment or message that is not there", async () => {
    const message = await sendWithAttachments();

    expect((await fetch(`${sink.url}/messages/${message.id}/attachments/2`)).status).toBe(404);
    expect((await fetch(`${sink.url}/messages/${message.id}/attachments/none.pdf`)).status).toBe(404);
    expect((await fetch(`${sink.url}/messages/999/attachments/0`)).status).toBe(404);
  });

  it("forgets the bytes of messages it no longer keeps", async () => {
    const first = await sendWithAttachments("one");
    await sendWithAttachments("two");
    await sendWithAttachments("three");

    expect(sink.messages().map((message) => message.subject)).toEqual(["two", "three"]);
    expect(sink.attachment(first.id, 0)).toBeUndefined();
    expect((await fetch(`${sink.url}/messages/${first.id}/attachments/0`)).status).toBe(404);
  });
});
