import { ConfigError } from "@balansity/db";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";

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

describe("SMTP_SEND_LIMIT", () => {
  it("is off unless set", () => {
    expect(loadConfig(base).smtp.sendLimit).toBeUndefined();
  });

  it.each([
    ["50/15m", { count: 50, windowSeconds: 900 }],
    ["20/10s", { count: 20, windowSeconds: 10 }],
    ["500/h", { count: 500, windowSeconds: 3600 }],
  ])("reads %s as a count in any window", (value, expected) => {
    expect(loadConfig({ ...base, SMTP_SEND_LIMIT: value }).smtp.sendLimit).toEqual(expected);
  });

  it.each([
    ["50", "must be <count>/<window> with the window in s, m or h, e.g. 50/15m"],
    ["50/15d", "must be <count>/<window> with the window in s, m or h, e.g. 50/15m"],
    ["0/10s", "must allow from 1 to 100000 messages per window"],
    ["10/25h", "must have a window from 1s to 24h"],
  ])("refuses %s naming the variable and the expected form", (value, message) => {
    expect(issues({ SMTP_SEND_LIMIT: value })).toEqual([`SMTP_SEND_LIMIT ${message} (got "${value}")`]);
  });
});
