import nodemailer from "nodemailer";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SmtpSink, SmtpSinkError, startSmtpSink } from "../src/smtp-sink.ts";

function transportTo(sink: SmtpSink, auth?: { user: string; pass: string }) {
  return nodemailer.createTransport({
    host: sink.host,
    port: sink.smtpPort,
    secure: false,
    ignoreTLS: true,
    ...(auth === undefined ? {} : { auth }),
  });
}

/** A minimal message; `overrides` win. */
function mail(subject: string, overrides: nodemailer.SendMailOptions = {}): nodemailer.SendMailOptions {
  return { from: "noreply@balansity.test", to: "anna@example.com", subject, text: ".", ...overrides };
}

describe("SMTP sink", () => {
  let sink: SmtpSink;
  let transport: ReturnType<typeof transportTo>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    transport = transportTo(sink);
  });
  afterEach(() => sink.clear());
  afterAll(async () => {
    transport.close();
    await sink.stop();
  });

  it("accepts a message over SMTP and parses subject, text, html, addresses and Message-ID", async () => {
    const info = await transport.sendMail({
      from: '"Balansity" <noreply@balansity.test>',
      to: ["Anna <anna@example.com>", "boris@example.com"],
      subject: "Your appointment",
      text: "See you tomorrow at 10:00.",
      html: "<p>See you <b>tomorrow</b> at 10:00.</p>",
      headers: { "X-Balansity-Msg-Id": "42" },
    });

    const [message] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    expect(info.response).toMatch(/^250 /);
    expect(message).toMatchObject({
      id: expect.any(String),
      envelope: { from: "noreply@balansity.test", to: ["anna@example.com", "boris@example.com"] },
      messageId: info.messageId,
      from: "noreply@balansity.test",
      to: ["anna@example.com", "boris@example.com"],
      subject: "Your appointment",
      text: "See you tomorrow at 10:00.",
      html: "<p>See you <b>tomorrow</b> at 10:00.</p>",
      attachments: [],
    });
    expect(message?.messageId).toMatch(/^<.+@.+>$/);
    expect(new Date(message?.receivedAt ?? "").toISOString()).toBe(message?.receivedAt);
    expect(message?.headers["x-balansity-msg-id"]).toBe("42");
    expect(message?.headers.subject).toBe("Your appointment");
    expect(message?.headers["message-id"]).toBe(info.messageId);
  });

  it("keeps Cyrillic subject, body and display names intact", async () => {
    await transport.sendMail({
      from: '"Баланситi" <noreply@balansity.test>',
      to: '"Анна Петрова" <anna@example.com>',
      subject: "Напоминание о записи на завтра — 10:00",
      text: "Здравствуйте, Анна! Ждём вас завтра в 10:00. Ёжик, щётка, «кавычки».",
      html: "<p>Здравствуйте, <b>Анна</b>! Ждём вас завтра.</p>",
    });

    const [message] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    expect(message?.subject).toBe("Напоминание о записи на завтра — 10:00");
    expect(message?.text).toBe("Здравствуйте, Анна! Ждём вас завтра в 10:00. Ёжик, щётка, «кавычки».");
    expect(message?.html).toBe("<p>Здравствуйте, <b>Анна</b>! Ждём вас завтра.</p>");
    expect(message?.headers.to).toBe('"Анна Петрова" <anna@example.com>');
  });

  it("lists attachments by name, type and size without keeping their content", async () => {
    await transport.sendMail({
      from: "noreply@balansity.test",
      to: "anna@example.com",
      subject: "Invoice",
      text: "Attached.",
      attachments: [
        { filename: "invoice.pdf", content: Buffer.alloc(1234, 1), contentType: "application/pdf" },
      ],
    });

    const [message] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    expect(message?.attachments).toEqual([
      { filename: "invoice.pdf", contentType: "application/pdf", size: 1234 },
    ]);
  });

  it("waits for the messages to a given recipient, ignoring others", async () => {
    const waiting = sink.waitForMessages(2, { to: "Boris@Example.com", timeoutMs: 5_000 });
    for (const to of ["anna@example.com", "boris@example.com", "boris@example.com"]) {
      await transport.sendMail(mail(`for ${to}`, { to }));
    }

    const messages = await waiting;
    expect(messages.map((message) => message.envelope.to)).toEqual([
      ["boris@example.com"],
      ["boris@example.com"],
    ]);
    expect(sink.messages()).toHaveLength(3);
  });

  it("rejects a wait with WAIT_TIMEOUT, saying what did arrive, when too few messages come", async () => {
    await transport.sendMail(mail("only one"));

    const error = await sink.waitForMessages(2, { timeoutMs: 200 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpSinkError);
    expect(error).toMatchObject({ code: "WAIT_TIMEOUT", message: expect.stringContaining("only one") });
  });

  it("forgets every message on clear() and keeps numbering after it", async () => {
    await transport.sendMail(mail("a"));
    const [before] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    sink.clear();
    expect(sink.messages()).toEqual([]);

    await transport.sendMail(mail("b"));
    const [after] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
    expect(Number(after?.id)).toBeGreaterThan(Number(before?.id));
  });
});

describe("SMTP sink limits and lifecycle", () => {
  it("keeps only the newest maxMessages messages", async () => {
    const sink = await startSmtpSink({ maxMessages: 2 });
    const transport = transportTo(sink);
    try {
      for (const subject of ["first", "second", "third"]) {
        await transport.sendMail(mail(subject));
      }
      expect(sink.messages().map((message) => message.subject)).toEqual(["second", "third"]);
      await expect(sink.waitForMessages(3)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    } finally {
      transport.close();
      await sink.stop();
    }
  });

  it("rejects pending waits with STOPPED and refuses connections once stopped", async () => {
    const sink = await startSmtpSink();
    const waiting = sink.waitForMessages(1, { timeoutMs: 5_000 });
    await sink.stop();

    await expect(waiting).rejects.toMatchObject({ code: "STOPPED" });
    await expect(transportTo(sink).sendMail(mail("x"))).rejects.toMatchObject({
      code: "ESOCKET",
      message: expect.stringContaining("ECONNREFUSED"),
    });
  });

  it("refuses to start with an invalid failure mode", async () => {
    await expect(
      startSmtpSink({ failWith: { kind: "temporary", code: 550 } as unknown as { kind: "none" } }),
    ).rejects.toMatchObject({ code: "INVALID_FAILURE_MODE" });
  });
});

describe("SMTP sink with credentials configured", () => {
  const credentials = { user: "smtp-user", pass: "s3cret pass" };
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: credentials });
  });
  afterAll(() => sink.stop());

  it("accepts mail from a client that logs in with the right user and password (AUTH PLAIN)", async () => {
    const transport = transportTo(sink, credentials);
    try {
      await transport.sendMail(mail("authed"));
    } finally {
      transport.close();
    }
    expect(sink.messages().map((message) => message.subject)).toEqual(["authed"]);
  });

  it("accepts AUTH LOGIN with the right credentials too", async () => {
    const transport = nodemailer.createTransport({
      host: sink.host,
      port: sink.smtpPort,
      secure: false,
      ignoreTLS: true,
      auth: credentials,
      authMethod: "LOGIN",
    });
    try {
      const info = await transport.sendMail(mail("x"));
      expect(info.accepted).toEqual(["anna@example.com"]);
    } finally {
      transport.close();
    }
  });

  it("rejects a wrong password with 535", async () => {
    const transport = transportTo(sink, { user: credentials.user, pass: "wrong" });
    try {
      await expect(transport.sendMail(mail("x"))).rejects.toMatchObject({ code: "EAUTH", responseCode: 535 });
    } finally {
      transport.close();
    }
  });

  it("rejects mail from a client that does not log in with 530", async () => {
    const transport = transportTo(sink);
    try {
      await expect(transport.sendMail(mail("x"))).rejects.toMatchObject({ responseCode: 530 });
    } finally {
      transport.close();
    }
  });
});
