import { ConfigError } from "@balansity/db";
import { emailTemplateNames } from "@balansity/emails/catalog";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import {
  listUnsubscribeHeaders,
  unsubscribeToken,
  unsubscribeUrlFor,
} from "../src/email/list-unsubscribe.ts";

const base = {
  DATABASE_URL: "postgres://worker@127.0.0.1:5432/postgres",
  SMTP_HOST: "smtp.example.ru",
  SMTP_FROM: "noreply@balansity.test",
};

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

// A fixed vector: the unsubscribe Edge Function's Deno test (supabase/functions/unsubscribe/token_test.ts)
// checks the same token, so the two sides cannot drift apart.
const secret = "test-vector-secret-0123456789abcdefghij";
const userId = "5b0f7c2e-0000-4000-8000-000000000001";
const vector = "5b0f7c2e-0000-4000-8000-000000000001.5ObVSpVMMaAHjFlGMAn_U1NFnUI-4ObX0U_aWUvNw98";
const config = { url: "https://ref.supabase.co/functions/v1/unsubscribe", secret };

describe("List-Unsubscribe on reminder emails", () => {
  it("signs HMAC-SHA256 over the purpose and the user id (the function's vector)", () => {
    expect(unsubscribeToken(secret, userId)).toBe(vector);
    expect(unsubscribeToken(secret, userId.toUpperCase())).toBe(vector);
    expect(unsubscribeToken(secret, userId, "reports")).not.toBe(vector);
    expect(unsubscribeToken(`${secret}!`, userId)).not.toBe(vector);
  });

  it("gives both RFC 8058 headers to the two reminders", () => {
    for (const template of ["appointment_reminder_24h", "appointment_reminder_1h"]) {
      expect(listUnsubscribeHeaders(unsubscribeUrlFor(config, template, userId))).toEqual({
        "List-Unsubscribe": `<https://ref.supabase.co/functions/v1/unsubscribe?token=${vector}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      });
    }
  });

  it("gives none to transactional templates, to a message without a user, or without UNSUBSCRIBE_URL", () => {
    const transactional = emailTemplateNames.filter((name) => !name.startsWith("appointment_reminder_"));
    expect(transactional).toContain("appointment_confirmation");
    expect(transactional).toContain("payment_succeeded");
    for (const template of transactional)
      expect(listUnsubscribeHeaders(unsubscribeUrlFor(config, template, userId))).toEqual({});
    expect(unsubscribeUrlFor(config, "appointment_reminder_1h", null)).toBeUndefined();
    expect(unsubscribeUrlFor(undefined, "appointment_reminder_1h", userId)).toBeUndefined();
    expect(listUnsubscribeHeaders(undefined)).toEqual({});
  });
});

describe("UNSUBSCRIBE_URL and UNSUBSCRIBE_SECRET", () => {
  it("are off unless set", () => {
    expect(loadConfig(base).unsubscribe).toBeUndefined();
  });

  it("reads both", () => {
    expect(
      loadConfig({ ...base, UNSUBSCRIBE_URL: config.url, UNSUBSCRIBE_SECRET: secret }).unsubscribe,
    ).toEqual(config);
  });

  it("needs both, and a secret of 32 characters or more that is never echoed", () => {
    expect(issues({ UNSUBSCRIBE_URL: config.url })).toEqual([
      "UNSUBSCRIBE_SECRET is required when UNSUBSCRIBE_URL is set (the same value as the unsubscribe function's)",
    ]);
    expect(issues({ UNSUBSCRIBE_SECRET: secret })).toEqual([
      "UNSUBSCRIBE_URL is required when UNSUBSCRIBE_SECRET is set (the unsubscribe function's public address)",
    ]);
    const short = issues({ UNSUBSCRIBE_URL: config.url, UNSUBSCRIBE_SECRET: "short-secret-value" });
    expect(short).toContain(
      "UNSUBSCRIBE_SECRET must be at least 32 characters (e.g. openssl rand -base64 32)",
    );
    expect(short.join("\n")).not.toContain("short-secret-value");
    expect(issues({ UNSUBSCRIBE_URL: "ftp://x", UNSUBSCRIBE_SECRET: secret })[0]).toMatch(
      /^UNSUBSCRIBE_URL /,
    );
  });
});
