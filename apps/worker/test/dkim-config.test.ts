import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@balansity/db";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";

const base = {
  DATABASE_URL: "postgres://worker@127.0.0.1:5432/postgres",
  SMTP_HOST: "smtp.example.ru",
  SMTP_FROM: "noreply@balansity.test",
};
const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
const dir = mkdtempSync(join(tmpdir(), "dkim-config-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe("SMTP_DKIM_*", () => {
  it("signs for the From domain with the selector and a key given inline or in a file", () => {
    expect(loadConfig(base).smtp.dkim).toBeUndefined();
    const inline = loadConfig({ ...base, SMTP_DKIM_SELECTOR: "mail", SMTP_DKIM_PRIVATE_KEY: pem }).smtp.dkim;
    expect(inline).toEqual({ domainName: "balansity.test", keySelector: "mail", privateKey: pem });
    const file = join(dir, "dkim.pem");
    writeFileSync(file, pem);
    const fromFile = loadConfig({ ...base, SMTP_DKIM_SELECTOR: "mail", SMTP_DKIM_PRIVATE_KEY_FILE: file })
      .smtp.dkim;
    expect(fromFile?.privateKey).toBe(pem);
    // One line of an env file, line breaks written as \n.
    const oneLine = loadConfig({
      ...base,
      SMTP_DKIM_SELECTOR: "mail",
      SMTP_DKIM_PRIVATE_KEY: pem.replaceAll("\n", "\\n"),
    }).smtp.dkim;
    expect(oneLine?.privateKey).toBe(pem);
  });

  it("names what is missing or wrong, never echoing the key", () => {
    expect(issues({ SMTP_DKIM_SELECTOR: "mail" })).toEqual([
      "SMTP_DKIM_PRIVATE_KEY or SMTP_DKIM_PRIVATE_KEY_FILE is required when SMTP_DKIM_SELECTOR is set",
    ]);
    expect(issues({ SMTP_DKIM_PRIVATE_KEY: pem })).toEqual([
      "SMTP_DKIM_SELECTOR is required with a DKIM private key",
    ]);
    const notAKey = "not-a-key-value-42";
    const found = issues({ SMTP_DKIM_SELECTOR: "mail", SMTP_DKIM_PRIVATE_KEY: notAKey });
    expect(found).toEqual(["SMTP_DKIM_PRIVATE_KEY is not a PEM private key (-----BEGIN PRIVATE KEY----- …)"]);
    expect(
      issues({ SMTP_DKIM_SELECTOR: "mail", SMTP_DKIM_PRIVATE_KEY_FILE: join(dir, "missing.pem") }),
    ).toEqual(["SMTP_DKIM_PRIVATE_KEY_FILE cannot be read (ENOENT)"]);
  });
});
