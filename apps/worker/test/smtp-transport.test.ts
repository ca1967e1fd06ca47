import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { createSmtpTransport } from "../src/email/smtp-transport.ts";

const base = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
  SMTP_HOST: "mail.nic.ru",
  SMTP_FROM: "noreply@balansity.ru",
};

function transportOptions(env: Record<string, string>) {
  const transport = createSmtpTransport(loadConfig({ ...base, ...env }).smtp);
  try {
    // nodemailer keeps the resolved options on the transport it built.
    return (transport.transporter as unknown as { options: Record<string, unknown> }).options;
  } finally {
    transport.close();
  }
}

describe("SMTP transport security", () => {
  it("requires STARTTLS on 587, so credentials never cross in clear", () => {
    const options = transportOptions({
      SMTP_PORT: "587",
      SMTP_USER: "noreply@balansity.ru",
      SMTP_PASS: "placeholder",
    });
    expect(options).toMatchObject({ secure: false, requireTLS: true, ignoreTLS: false, pool: true });
    expect(options.auth).toEqual({ user: "noreply@balansity.ru", pass: "placeholder" });
  });

  it("speaks TLS from the first byte on 465", () => {
    expect(transportOptions({ SMTP_PORT: "465" })).toMatchObject({ secure: true, requireTLS: false });
  });

  it("sends in clear only when told SMTP_SECURE=none (local sinks)", () => {
    expect(transportOptions({ SMTP_PORT: "1025", SMTP_SECURE: "none" })).toMatchObject({
      secure: false,
      requireTLS: false,
      ignoreTLS: true,
    });
    expect(transportOptions({ SMTP_PORT: "1025" })).toMatchObject({ requireTLS: true });
  });
});

describe("SMTP_THREAD", () => {
  it("sends from a thread of its own unless told off", () => {
    expect(loadConfig(base).smtp.thread).toBe(true);
    expect(loadConfig({ ...base, SMTP_THREAD: "on" }).smtp.thread).toBe(true);
    expect(loadConfig({ ...base, SMTP_THREAD: "off" }).smtp.thread).toBe(false);
  });
});

describe("SMTP connections", () => {
  // Nagle's algorithm would hold the end of each DATA until the server's delayed ACK (~40 ms), capping
  // a pooled connection at ~22 emails/s (bench/RESULTS.md). Checked as a socket flag, not a timing.
  it("opens pooled connections with TCP_NODELAY", async () => {
    const { startSmtpSink } = await import("@balansity/devstack");
    const sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    const transport = createSmtpTransport(
      loadConfig({ ...base, SMTP_HOST: "127.0.0.1", SMTP_PORT: String(sink.smtpPort), SMTP_SECURE: "none" })
        .smtp,
    );
    try {
      const { getSocket } = transport as unknown as {
        getSocket: (
          options: { host: string; port: number },
          callback: (error: Error | null, result?: { connection: Socket }) => void,
        ) => void;
      };
      const socket = await new Promise<Socket | undefined>((resolve, reject) =>
        getSocket(
          { host: "127.0.0.1", port: sink.smtpPort },
          (error: Error | null, result?: { connection: Socket }) =>
            error ? reject(error) : resolve(result?.connection),
        ),
      );
      expect(socket).toBeDefined();
      const noDelay = Object.getOwnPropertySymbols(socket).find(
        (symbol) => symbol.description === "kSetNoDelay",
      );
      expect(noDelay && (socket as unknown as Record<symbol, unknown>)[noDelay]).toBe(true);
      socket?.destroy();
      const info = await transport.sendMail({
        from: "noreply@balansity.ru",
        to: "u@example.com",
        subject: "s",
        text: "t",
      });
      expect(info.accepted).toEqual(["u@example.com"]);
    } finally {
      transport.close();
      await sink.stop();
    }
  });
});
