import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "./support/build-console.ts";

// The console is a static bundle anyone can download: it may hold the project URL and the anon key,
// and nothing else that grants access.

let db: TestDatabase;
let api: PostgrestRpc;
let jwtSecret: string;
let outDir: string;
let bundle: { readonly file: string; readonly text: string }[];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Every JWT-shaped string in `text` whose payload decodes to JSON, with its claims. */
function jwtsIn(text: string): { readonly token: string; readonly claims: Record<string, unknown> }[] {
  const found = text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? [];
  return found.flatMap((token) => {
    try {
      const payload = token.split(".")[1] ?? "";
      return [{ token, claims: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) }];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  jwtSecret = randomJwtSecret();
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret });
  outDir = await buildConsole({ supabaseUrl: api.url, anonKey: api.anonKey });
  bundle = await Promise.all(
    (await filesUnder(outDir)).map(async (file) => ({ file, text: await readFile(file, "utf8") })),
  );
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await db?.drop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe("the built console bundle", () => {
  it("holds the project URL and the anon key it was built with", () => {
    const all = bundle.map((one) => one.text).join("\n");
    expect(bundle.some((one) => one.file.endsWith(".js"))).toBe(true);
    // Booleans: a failing toContain would print the whole bundle.
    expect(all.includes(api.anonKey), "the anon key is in the bundle").toBe(true);
    expect(all.includes(api.url), "the project URL is in the bundle").toBe(true);
  });

  it("holds neither the service-role key nor the JWT secret", () => {
    for (const { file, text } of bundle) {
      expect(text.includes(api.serviceRoleKey), `${file} contains the service-role key`).toBe(false);
      expect(text.includes(jwtSecret), `${file} contains the JWT secret`).toBe(false);
    }
  });

  it("holds no JWT but the anon key: none with role service_role, whatever it was signed with", () => {
    const tokens = bundle.flatMap(({ text }) => jwtsIn(text));
    expect(tokens.map(({ claims }) => claims.role)).toEqual(tokens.map(() => "anon"));
    expect(new Set(tokens.map(({ token }) => token))).toEqual(new Set([api.anonKey]));
  });

  it("holds no Supabase secret API key (sb_secret_…)", () => {
    for (const { file, text } of bundle) {
      expect(/sb_secret_\w{8,}/.test(text), `${file} contains an sb_secret_ key`).toBe(false);
    }
  });
});
