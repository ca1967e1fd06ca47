import nodemailer from "nodemailer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpSink } from "../src/smtp-sink.ts";

describe("SMTP sink failure injection", () => {
  let sink: SmtpSink;
  let transport: ReturnType<typeof nodemailer.createTransport>;

  const send = (subject: string, to: string | string[] = "anna@example.com") =>
    transport.sendMail({ from: "noreply@balansity.test", to, subject, text: "." });

  async function postFailureMode(body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${sink.url}/failure-mode`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
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
  beforeEach(() => {
    sink.setFailureMode({ kind: "none" });
    sink.clear();
  });
  afterAll(async () => {
    transport.close();
    await sink.stop();
  });

  it("answers 451 to the next N messages in temporary mode, then accepts again", async () => {
    sink.setFailureMode({ kind: "temporary", code: 451, remaining: 2 });

    await expect(send("attempt 1")).rejects.toMatchObject({ code: "EENVELOPE", responseCode: 451 });
    expect(sink.failureMode()).toEqual({ kind: "temporary", code: 451, remaining: 1 });
    await expect(send("attempt 2")).rejects.toMatchObject({ code: "EENVELOPE", responseCode: 451 });
    const accepted = await send("attempt 3");

    expect(accepted.accepted).toEqual(["anna@example.com"]);
    expect(sink.messages().map((message) => message.subject)).toEqual(["attempt 3"]);
    expect(sink.failureMode()).toEqual({ kind: "none" });
  });

  it("counts a message with several recipients as one in temporary mode", async () => {
    sink.setFailureMode({ kind: "temporary", remaining: 1 });

    await expect(send("to two", ["anna@example.com", "boris@example.com"])).rejects.toMatchObject({
      responseCode: 451,
      rejected: ["anna@example.com", "boris@example.com"],
    });
    await expect(send("to two again", ["anna@example.com", "boris@example.com"])).resolves.toMatchObject({
      accepted: ["anna@example.com", "boris@example.com"],
    });
  });

  it("keeps answering 4xx in temporary mode without remaining until the mode is changed", async () => {
    sink.setFailureMode({ kind: "temporary", code: 421 });

    for (const attempt of [1, 2, 3]) {
      await expect(send(`attempt ${attempt}`)).rejects.toMatchObject({ responseCode: 421 });
    }
    sink.setFailureMode({ kind: "none" });
    await expect(send("after")).resolves.toMatchObject({ accepted: ["anna@example.com"] });
  });

  it("answers 550 to every message in permanent mode and stores none", async () => {
    sink.setFailureMode({ kind: "permanent" });

    await expect(send("one")).rejects.toMatchObject({ code: "EENVELOPE", responseCode: 550 });
    await expect(send("two")).rejects.toMatchObject({ code: "EENVELOPE", responseCode: 550 });
    expect(sink.messages()).toEqual([]);
  });

  it("rejects at the end of DATA instead of at RCPT when stage is data", async () => {
    sink.setFailureMode({ kind: "permanent", code: 554, stage: "data" });

    await expect(send("whole message sent")).rejects.toMatchObject({ code: "EMESSAGE", responseCode: 554 });
    expect(sink.messages()).toEqual([]);
  });

  it("rejects a failure mode whose code is in the wrong class", () => {
    expect(() => sink.setFailureMode({ kind: "temporary", code: 550 })).toThrow(
      expect.objectContaining({ code: "INVALID_FAILURE_MODE" }),
    );
    expect(() => sink.setFailureMode({ kind: "permanent", code: 451 })).toThrow(/invalid failure mode/);
    expect(sink.failureMode()).toEqual({ kind: "none" });
  });

  it("is set over HTTP with POST /failure-mode and read back with GET", async () => {
    const set = await postFailureMode({ kind: "temporary", code: 452, remaining: 1 });
    expect(set).toEqual({ status: 200, body: { kind: "temporary", code: 452, remaining: 1 } });

    await expect(send("over http")).rejects.toMatchObject({ responseCode: 452 });
    const read = await fetch(`${sink.url}/failure-mode`);
    expect(await read.json()).toEqual({ kind: "none" });
  });

  it("answers 400 over HTTP to an invalid failure mode or a body that is not JSON, keeping the mode", async () => {
    sink.setFailureMode({ kind: "permanent" });

    const wrongCode = await postFailureMode({ kind: "permanent", code: 250 });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body).toEqual({ error: expect.stringContaining("code") });
    expect((await postFailureMode({ kind: "sometimes" })).status).toBe(400);
    expect((await postFailureMode("{not json")).status).toBe(400);
    expect(sink.failureMode()).toEqual({ kind: "permanent" });
  });
});
