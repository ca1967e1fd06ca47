import { connect } from "node:net";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import type { ReceivedMessage } from "../src/smtp-sink.ts";
import { type SmtpSinkProcess, spawnSmtpSinkProcess } from "../src/smtp-sink-process.ts";

/** Resolves with the error code of a TCP connection attempt, or "connected". */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("SMTP sink as a separate process", () => {
  let sink: SmtpSinkProcess | undefined;

  afterEach(async () => {
    await sink?.kill();
    sink = undefined;
  });

  it("starts, receives mail over SMTP and shows it over HTTP", async () => {
    sink = await spawnSmtpSinkProcess();
    expect(sink.pid).not.toBe(process.pid);
    expect(isRunning(sink.pid)).toBe(true);

    const transport = nodemailer.createTransport({
      host: sink.host,
      port: sink.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await transport.sendMail({
        from: "noreply@balansity.test",
        to: "anna@example.com",
        subject: "Из другого процесса",
        text: "Привет",
      });
    } finally {
      transport.close();
    }

    const messages = (await (await fetch(`${sink.url}/messages`)).json()) as ReceivedMessage[];
    expect(messages).toMatchObject([
      { subject: "Из другого процесса", text: "Привет", to: ["anna@example.com"] },
    ]);
  });

  it("refuses SMTP connections once killed", async () => {
    sink = await spawnSmtpSinkProcess();
    const { host, smtpPort, pid } = sink;
    expect(await tryConnect(host, smtpPort)).toBe("connected");

    await sink.kill();

    expect(isRunning(pid)).toBe(false);
    expect(await sink.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(await tryConnect(host, smtpPort)).toBe("ECONNREFUSED");
    const transport = nodemailer.createTransport({ host, port: smtpPort, secure: false, ignoreTLS: true });
    await expect(
      transport.sendMail({ from: "noreply@balansity.test", to: "anna@example.com", subject: "x", text: "." }),
    ).rejects.toMatchObject({ code: "ESOCKET", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    sink = await spawnSmtpSinkProcess();

    await sink.stop();

    expect(await sink.exited).toEqual({ code: 0, signal: null });
    expect(await tryConnect(sink.host, sink.smtpPort)).toBe("ECONNREFUSED");
  });

  it("passes auth and an initial failure mode as flags, and reports a port in use instead of hanging", async () => {
    sink = await spawnSmtpSinkProcess({
      auth: { user: "smtp-user", pass: "smtp-pass" },
      failWith: { kind: "temporary", code: 451, remaining: 1 },
    });
    const clash = await spawnSmtpSinkProcess({ smtpPort: sink.smtpPort }).catch((error: unknown) => error);
    expect(clash).toMatchObject({ code: "STOPPED", message: expect.stringContaining("EADDRINUSE") });

    const transport = nodemailer.createTransport({
      host: sink.host,
      port: sink.smtpPort,
      secure: false,
      ignoreTLS: true,
      auth: { user: "smtp-user", pass: "smtp-pass" },
    });
    try {
      await expect(
        transport.sendMail({
          from: "noreply@balansity.test",
          to: "anna@example.com",
          subject: "1",
          text: ".",
        }),
      ).rejects.toMatchObject({ responseCode: 451 });
      await expect(
        transport.sendMail({
          from: "noreply@balansity.test",
          to: "anna@example.com",
          subject: "2",
          text: ".",
        }),
      ).resolves.toMatchObject({ accepted: ["anna@example.com"] });
    } finally {
      transport.close();
    }
  });

  it("is controlled over HTTP: a permanent failure mode set by another process gives 550", async () => {
    sink = await spawnSmtpSinkProcess();
    const response = await fetch(`${sink.url}/failure-mode`, {
      method: "POST",
      body: JSON.stringify({ kind: "permanent" }),
    });
    expect(response.status).toBe(200);

    const transport = nodemailer.createTransport({
      host: sink.host,
      port: sink.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await expect(
        transport.sendMail({
          from: "noreply@balansity.test",
          to: "anna@example.com",
          subject: "x",
          text: ".",
        }),
      ).rejects.toMatchObject({ responseCode: 550 });
    } finally {
      transport.close();
    }
  });
});
