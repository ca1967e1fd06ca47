import nodemailer from "nodemailer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ReceivedMessage, type SmtpSink, startSmtpSink } from "../src/smtp-sink.ts";

describe("SMTP sink HTTP view", () => {
  let sink: SmtpSink;
  let transport: ReturnType<typeof nodemailer.createTransport>;

  async function send(to: string, subject: string, html?: string): Promise<void> {
    await transport.sendMail({
      from: "noreply@balansity.test",
      to,
      subject,
      text: `text of ${subject}`,
      ...(html === undefined ? {} : { html }),
    });
  }

  async function getJson(
    path: string,
  ): Promise<{ status: number; body: unknown; contentType: string | null }> {
    const response = await fetch(`${sink.url}${path}`);
    return {
      status: response.status,
      body: await response.json(),
      contentType: response.headers.get("content-type"),
    };
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
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

  it("reports health with the number of kept messages", async () => {
    await send("anna@example.com", "one");
    expect(await getJson("/healthz")).toMatchObject({ status: 200, body: { status: "ok", messages: 1 } });
  });

  it("lists messages oldest first as UTF-8 JSON with every field", async () => {
    await send("anna@example.com", "Первое письмо", "<p>Привет</p>");
    await send("boris@example.com", "second");

    const { status, body, contentType } = await getJson("/messages");
    expect(status).toBe(200);
    expect(contentType).toBe("application/json; charset=utf-8");
    const messages = body as ReceivedMessage[];
    expect(messages.map((message) => message.subject)).toEqual(["Первое письмо", "second"]);
    expect(messages[0]).toEqual(sink.messages()[0]);
    expect(Object.keys(messages[0] ?? {}).sort()).toEqual(
      [
        "attachments",
        "envelope",
        "from",
        "headers",
        "html",
        "id",
        "messageId",
        "receivedAt",
        "subject",
        "text",
        "to",
      ].sort(),
    );
    expect(messages[0]?.html).toBe("<p>Привет</p>");
  });

  it("filters the list by recipient, case-insensitively", async () => {
    await send("anna@example.com", "for anna");
    await send("boris@example.com", "for boris");
    await send("Anna@Example.com", "for anna again");

    const { body } = await getJson(`/messages?to=${encodeURIComponent("ANNA@example.com")}`);
    expect((body as ReceivedMessage[]).map((message) => message.subject)).toEqual([
      "for anna",
      "for anna again",
    ]);
    expect((await getJson("/messages?to=nobody@example.com")).body).toEqual([]);
  });

  it("returns one message by id, and 404 for an unknown id", async () => {
    await send("anna@example.com", "the one");
    const [message] = sink.messages();

    expect(await getJson(`/messages/${message?.id}`)).toMatchObject({
      status: 200,
      body: { subject: "the one" },
    });
    expect(await getJson("/messages/999999")).toMatchObject({
      status: 404,
      body: { error: expect.any(String) },
    });
  });

  it("serves the HTML body as text/html with scripts blocked, and 404 when there is none", async () => {
    await send("anna@example.com", "with html", "<h1>Запись подтверждена</h1><script>alert(1)</script>");
    await send("anna@example.com", "text only");
    const [withHtml, textOnly] = sink.messages();

    const response = await fetch(`${sink.url}/messages/${withHtml?.id}/html`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await response.text()).toBe("<h1>Запись подтверждена</h1><script>alert(1)</script>");
    expect((await fetch(`${sink.url}/messages/${textOnly?.id}/html`)).status).toBe(404);
  });

  it("forgets every message on DELETE /messages", async () => {
    await send("anna@example.com", "to be deleted");

    const response = await fetch(`${sink.url}/messages`, { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(sink.messages()).toEqual([]);
    expect((await getJson("/messages")).body).toEqual([]);
  });

  it("shows a human-readable page with every value escaped and links to the HTML bodies", async () => {
    await send("anna@example.com", `<img src=x onerror="alert('subject')"> & Тема`, "<p>body</p>");
    const [message] = sink.messages();

    const response = await fetch(`${sink.url}/`);
    const page = await response.text();
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page).toContain("&#60;img src=x onerror=&#34;alert(&#39;subject&#39;)&#34;&#62; &#38; Тема");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("anna@example.com");
    expect(page).toContain(message?.receivedAt);
    expect(page).toContain(`href="/messages/${message?.id}/html"`);
  });

  it("answers 404 for unknown routes and 405 for a wrong method", async () => {
    expect((await fetch(`${sink.url}/nope`)).status).toBe(404);
    const response = await fetch(`${sink.url}/messages`, { method: "PUT" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, DELETE");
  });
});
