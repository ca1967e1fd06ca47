import { ConfigError } from "@balansity/db";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";

const base = {
  DATABASE_URL: "postgresql://worker@127.0.0.1:5432/balansity",
  SMTP_HOST: "127.0.0.1",
  SMTP_FROM: "noreply@balansity.ru",
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("report configuration", () => {
  it("keeps reports in a folder by default, linked under APP_URL/reports/, 7-day links, 5 MB attachments", () => {
    const config = loadConfig({
      ...base,
      APP_URL: "https://app.balansity.ru",
      REPORT_FS_DIR: "/var/lib/reports",
    });
    expect(config.reports).toEqual({
      storage: {
        kind: "fs",
        dir: "/var/lib/reports",
        publicUrl: "https://app.balansity.ru/reports/",
        // Unset: the store signs with a secret of the process's own (createReportStore).
        linkSecret: undefined,
      },
      linkTtlSeconds: 604_800,
      attachmentMaxBytes: 5_242_880,
    });
  });

  it("signs folder links with REPORT_LINK_SECRET, refusing a short one", () => {
    const secret = "s".repeat(32);
    const storage = loadConfig({ ...base, REPORT_LINK_SECRET: secret }).reports.storage;
    expect(storage.kind === "fs" && storage.linkSecret).toBe(secret);
    expect(configError({ ...base, REPORT_LINK_SECRET: "short" }).issues).toEqual([
      expect.stringMatching(/^REPORT_LINK_SECRET must be at least 32 characters/),
    ]);
  });

  it("refuses the folder store under NODE_ENV=production unless explicitly allowed, and then wants a secret", () => {
    expect(configError({ ...base, NODE_ENV: "production" }).issues).toEqual([
      expect.stringMatching(
        /^REPORT_STORAGE=fs is refused under NODE_ENV=production: use REPORT_STORAGE=supabase/,
      ),
      "REPORT_LINK_SECRET is required when REPORT_STORAGE=fs under NODE_ENV=production",
    ]);
    expect(
      configError({ ...base, NODE_ENV: "production", REPORT_FS_ALLOW_PRODUCTION: "true" }).issues,
    ).toEqual(["REPORT_LINK_SECRET is required when REPORT_STORAGE=fs under NODE_ENV=production"]);
    const allowed = loadConfig({
      ...base,
      NODE_ENV: "production",
      REPORT_FS_ALLOW_PRODUCTION: "true",
      REPORT_LINK_SECRET: "p".repeat(40),
    });
    expect(allowed.reports.storage.kind).toBe("fs");
  });

  it("uses the private Supabase bucket with REPORT_STORAGE=supabase", () => {
    const config = loadConfig({
      ...base,
      REPORT_STORAGE: "supabase",
      SUPABASE_URL: "https://abc.supabase.co",
      SUPABASE_SERVICE_ROLE_KEY: "service-role-key-for-test",
      REPORT_ATTACHMENT_MAX_BYTES: "1000000",
    });
    expect(config.reports.storage).toEqual({
      kind: "supabase",
      url: "https://abc.supabase.co",
      serviceRoleKey: "service-role-key-for-test",
      bucket: "reports",
    });
    expect(config.reports.attachmentMaxBytes).toBe(1_000_000);
  });

  it("lists every missing or invalid report variable at once, without echoing the key", () => {
    const error = configError({
      ...base,
      REPORT_STORAGE: "supabase",
      SUPABASE_SERVICE_ROLE_KEY: "",
      REPORT_LINK_TTL_SECONDS: "soon",
      REPORT_BUCKET: "Reports!",
    });
    expect(error.issues).toEqual([
      'REPORT_LINK_TTL_SECONDS must be a whole number from 60 to 31536000 (got "soon")',
      "SUPABASE_URL is required when REPORT_STORAGE=supabase",
      "SUPABASE_SERVICE_ROLE_KEY is required when REPORT_STORAGE=supabase",
      'REPORT_BUCKET must be a bucket name (got "Reports!")',
    ]);
  });

  it("refuses an unknown REPORT_STORAGE", () => {
    expect(configError({ ...base, REPORT_STORAGE: "s3" }).issues).toEqual([
      'REPORT_STORAGE must be fs or supabase (got "s3")',
    ]);
  });
});
