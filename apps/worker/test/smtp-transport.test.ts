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
