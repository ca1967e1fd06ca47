import { generateKeyPairSync, randomBytes } from "node:crypto";
import { ConfigError } from "@balansity/db";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { runWorkerUntilExit } from "./support/worker-process.ts";

const base = {
  DATABASE_URL: "postgres://worker@127.0.0.1:5432/postgres",
  SMTP_HOST: "smtp.example.ru",
  SMTP_FROM: "noreply@balansity.test",
};
// Made at run time: no credential lives in the repository.
const PASSWORD = randomBytes(12).toString("hex");

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe("SMTP_FALLBACK_*", () => {
  it("is off unless SMTP_FALLBACK_HOST is set", () => {
    expect(loadConfig(base).smtpFallback).toBeUndefined();
  });

  it("reads the second account: its own From (else SMTP_FROM), STARTTLS on 587, after 60 s by default", () => {
    const config = loadConfig({
      ...base,
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_USER: "mailer@other.example",
      SMTP_FALLBACK_PASS: PASSWORD,
      SMTP_FALLBACK_FROM: "noreply@other.example",
    });
    expect(config.smtpFallback?.afterSeconds).toBe(60);
    expect(config.smtpFallback?.smtp).toMatchObject({
      host: "smtp.other.example",
      port: 587,
      security: "starttls",
      user: "mailer@other.example",
      password: PASSWORD,
      from: "noreply@other.example",
      sendLimit: undefined,
    });
    const sameFrom = loadConfig({
      ...base,
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_PORT: "465",
    });
    expect(sameFrom.smtpFallback?.smtp).toMatchObject({ from: "noreply@balansity.test", security: "tls" });
  });

  it.each([
    ["60s", 60],
    ["5m", 300],
    ["1h", 3600],
  ])("reads SMTP_FALLBACK_AFTER=%s as %i seconds", (value, seconds) => {
    const config = loadConfig({
      ...base,
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_AFTER: value,
    });
    expect(config.smtpFallback?.afterSeconds).toBe(seconds);
  });

  it("signs the fallback's mail with DKIM only when its From is on the DKIM domain", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const dkim = {
      SMTP_DKIM_SELECTOR: "mail",
      SMTP_DKIM_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
    const same = loadConfig({ ...base, ...dkim, SMTP_FALLBACK_HOST: "smtp.other.example" });
    expect(same.smtpFallback?.smtp.dkim?.domainName).toBe("balansity.test");
    const other = loadConfig({
      ...base,
      ...dkim,
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_FROM: "noreply@other.example",
    });
    expect(other.smtpFallback?.smtp.dkim).toBeUndefined();
  });

  it("lists every problem at once, never showing the fallback's password", () => {
    const found = issues({
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_SECURE: "none",
      SMTP_FALLBACK_USER: "mailer",
      SMTP_FALLBACK_PASS: PASSWORD,
      SMTP_FALLBACK_AFTER: "soon",
      SMTP_FALLBACK_FROM: "not-an-address",
    });
    expect(found).toEqual([
      'SMTP_FALLBACK_FROM must be an email address, e.g. noreply@balansity.ru (got "not-an-address")',
      'SMTP_FALLBACK_AFTER must be a duration in s, m or h, e.g. 60s or 5m (got "soon")',
      expect.stringMatching(
        /^SMTP_FALLBACK_USER\/SMTP_FALLBACK_PASS with SMTP_FALLBACK_SECURE=none would send the fallback's SMTP password to smtp\.other\.example in clear/,
      ),
    ]);
    expect(found.join("\n")).not.toContain(PASSWORD);
  });

  it.each([
    ["0s", "must be from 1s to 24h"],
    ["25h", "must be from 1s to 24h"],
    ["60", "must be a duration in s, m or h, e.g. 60s or 5m"],
  ])("refuses SMTP_FALLBACK_AFTER=%s", (value, message) => {
    expect(issues({ SMTP_FALLBACK_HOST: "smtp.other.example", SMTP_FALLBACK_AFTER: value })).toEqual([
      `SMTP_FALLBACK_AFTER ${message} (got "${value}")`,
    ]);
  });

  it("accepts plaintext AUTH to a loopback relay, as for the primary", () => {
    expect(
      issues({
        SMTP_FALLBACK_HOST: "127.0.0.1",
        SMTP_FALLBACK_SECURE: "none",
        SMTP_FALLBACK_USER: "mailer",
        SMTP_FALLBACK_PASS: PASSWORD,
      }),
    ).toEqual([]);
  });

  it("refuses a half-set account: a user without a password, or credentials without a host", () => {
    expect(issues({ SMTP_FALLBACK_HOST: "smtp.other.example", SMTP_FALLBACK_USER: "mailer" })).toEqual([
      "SMTP_FALLBACK_PASS is required when SMTP_FALLBACK_USER is set",
    ]);
    expect(issues({ SMTP_FALLBACK_USER: "mailer", SMTP_FALLBACK_PASS: PASSWORD })).toEqual([
      "SMTP_FALLBACK_USER and SMTP_FALLBACK_PASS set without SMTP_FALLBACK_HOST (the fallback transport is off)",
    ]);
  });

  it("stops the worker's start-up listing the fallback's problems with the others, password not printed", async () => {
    const result = await runWorkerUntilExit({
      ...base,
      SMTP_PORT: "abc",
      SMTP_FALLBACK_HOST: "smtp.other.example",
      SMTP_FALLBACK_SECURE: "none",
      SMTP_FALLBACK_USER: "mailer",
      SMTP_FALLBACK_PASS: PASSWORD,
      SMTP_FALLBACK_AFTER: "1d",
    });
    expect(result.code).toBe(78);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("- "));
    expect(problems.filter((line) => line.includes("SMTP_PORT"))).toHaveLength(1);
    expect(problems.filter((line) => line.includes("SMTP_FALLBACK_AFTER"))).toHaveLength(1);
    expect(problems.filter((line) => line.includes("in clear"))).toHaveLength(1);
    expect(problems).toHaveLength(3);
    expect(result.stderr + result.stdout).not.toContain(PASSWORD);
  });
});
