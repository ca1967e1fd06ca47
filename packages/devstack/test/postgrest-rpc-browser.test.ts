import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAccessTokenHook } from "../src/access-token-hook.ts";
import { consoleSignInLink } from "../src/console-sign-in.ts";
import { devstackEnv, startDevstack } from "../src/devstack.ts";
import { readOrCreateJwtSecret } from "../src/jwt-secret.ts";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "../src/postgrest-rpc.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

// What a browser on another origin (the operator console) needs from the stand-in: CORS, and the
// GoTrue endpoint supabase-js calls when it takes a session from a sign-in link.

let db: TestDatabase;
let api: PostgrestRpc;
let scratch: string;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
  scratch = await mkdtemp(join(tmpdir(), "devstack-jwt-"));
});

afterAll(async () => {
  await api?.stop();
  await db?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const operator = { id: "99999999-9999-4999-8999-999999999999", email: "operator@balansity.local" };

function tokenOf(link: string): string {
  return new URLSearchParams(new URL(link).hash.slice(1)).get("access_token") ?? "";
}

describe("CORS", () => {
  it("answers a preflight from another origin with the headers it asked for", async () => {
    const response = await fetch(`${api.url}/rest/v1/rpc/console_queue_overview`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "apikey, authorization, content-type, x-client-info",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "apikey, authorization, content-type, x-client-info",
    );
  });

  it("lets the browser read error answers too", async () => {
    const response = await fetch(`${api.url}/rest/v1/rpc/no_such_function`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("GET /auth/v1/user", () => {
  it("returns the signed-in user of a sign-in link's token, app_metadata included", async () => {
    const link = await consoleSignInLink({
      consoleUrl: "http://localhost:5173/",
      databaseUrl: db.url,
      operator,
      signJwt: api.signJwt,
    });
    const response = await fetch(`${api.url}/auth/v1/user`, {
      headers: { apikey: api.anonKey, authorization: `Bearer ${tokenOf(link)}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: operator.id,
      email: operator.email,
      role: "authenticated",
      app_metadata: { role: "operator" },
    });
  });

  it("refuses a token signed with another secret (403 bad_jwt)", async () => {
    const other = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
    try {
      const link = await consoleSignInLink({
        consoleUrl: "http://x/",
        databaseUrl: db.url,
        operator,
        signJwt: other.signJwt,
      });
      const response = await fetch(`${api.url}/auth/v1/user`, {
        headers: { apikey: api.anonKey, authorization: `Bearer ${tokenOf(link)}` },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error_code: "bad_jwt" });
    } finally {
      await other.stop();
    }
  });

  it("refuses the anon key as a user (no sub)", async () => {
    const response = await fetch(`${api.url}/auth/v1/user`, {
      headers: { apikey: api.anonKey, authorization: `Bearer ${api.anonKey}` },
    });
    expect(response.status).toBe(403);
  });

  it("refuses an expired sign-in link", async () => {
    const link = await consoleSignInLink({
      consoleUrl: "http://x/",
      databaseUrl: db.url,
      operator,
      signJwt: api.signJwt,
      validForSeconds: 60,
      now: Date.now() - 120_000,
    });
    const response = await fetch(`${api.url}/auth/v1/user`, {
      headers: { apikey: api.anonKey, authorization: `Bearer ${tokenOf(link)}` },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ msg: "JWT expired" });
  });
});

describe("consoleSignInLink", () => {
  it("puts the session in the fragment, the part of a URL that is never sent to a server", async () => {
    const link = new URL(
      await consoleSignInLink({
        consoleUrl: "http://localhost:5173/",
        databaseUrl: db.url,
        operator,
        signJwt: api.signJwt,
        now: 1e12,
      }),
    );
    expect(link.origin + link.pathname + link.search).toBe("http://localhost:5173/");
    const fragment = new URLSearchParams(link.hash.slice(1));
    expect(Object.fromEntries([...fragment].filter(([key]) => key !== "access_token"))).toEqual({
      token_type: "bearer",
      expires_in: "43200",
      expires_at: String(1e9 + 43200),
      refresh_token: "devstack-no-refresh",
      type: "magiclink",
    });
  });
});

describe("the access token hook in the token signer", () => {
  const claimsOf = (token: string) =>
    JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;

  it("signs an operator's link with the role the hook names: operator", async () => {
    const link = await consoleSignInLink({
      consoleUrl: "http://x/",
      databaseUrl: db.url,
      operator,
      signJwt: api.signJwt,
    });
    expect(claimsOf(tokenOf(link))).toMatchObject({ role: "operator", sub: operator.id });
  });

  it("sets role operator for app_metadata.role operator, and for nobody else", async () => {
    const base = { aud: "authenticated", sub: operator.id, email: operator.email };
    const asOperator = await runAccessTokenHook(db.url, {
      ...base,
      role: "authenticated",
      app_metadata: { provider: "email", role: "operator" },
    });
    expect(asOperator).toMatchObject({ ...base, role: "operator" });
    const user = await runAccessTokenHook(db.url, {
      ...base,
      role: "authenticated",
      app_metadata: { provider: "email" },
      // A user writes user_metadata; it must not count.
      user_metadata: { role: "operator" },
    });
    expect(user).toMatchObject({ ...base, role: "authenticated" });
    // A token that claims operator without app_metadata saying so is brought back to authenticated.
    const forged = await runAccessTokenHook(db.url, { ...base, role: "operator", app_metadata: {} });
    expect(forged.role).toBe("authenticated");
  });
});

describe("readOrCreateJwtSecret", () => {
  it("makes a secret readable by the owner only, and returns the same one on the next start", async () => {
    const first = readOrCreateJwtSecret(scratch);
    const file = await stat(join(scratch, "jwt-secret"));
    expect(file.mode & 0o777).toBe(0o600);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(readOrCreateJwtSecret(scratch)).toBe(first);
  });
});

describe("devstack up", () => {
  it("serves the API with the folder's secret and links the seeded operator in", async () => {
    const dir = join(scratch, "stack");
    await chmod(scratch, 0o755);
    const stack = await startDevstack({
      dir,
      postgresPort: 0,
      smtpPort: 0,
      smtpHttpPort: 0,
      apiPort: 0,
      consoleUrl: "http://localhost:5173/",
      env: process.env,
      log: () => undefined,
    });
    try {
      expect((await stat(join(dir, "jwt-secret"))).mode & 0o777).toBe(0o600);
      const secret = (await readFile(join(dir, "jwt-secret"), "utf8")).trim();
      const env = devstackEnv(stack);
      expect(env.SUPABASE_URL).toBe(stack.api.url);
      expect(env.SUPABASE_ANON_KEY).toBe(stack.api.anonKey);
      expect(Object.values(env).some((value) => value.includes(secret))).toBe(false);
      // The worker's folder store signs its links with the secret the API's Storage stand-in checks.
      expect((await stat(join(dir, "report-link-secret"))).mode & 0o777).toBe(0o600);
      expect(env).toMatchObject({
        REPORT_STORAGE: "fs",
        REPORT_FS_DIR: join(dir, "reports"),
        REPORT_PUBLIC_URL: `${stack.api.url}/storage/v1/object/sign/reports/`,
        REPORT_LINK_SECRET: (await readFile(join(dir, "report-link-secret"), "utf8")).trim(),
      });
      expect(env.REPORT_LINK_SECRET).not.toBe(secret);

      expect(stack.consoleSignIn?.operator.email).toBe("operator@balansity.local");
      const response = await fetch(`${stack.api.url}/auth/v1/user`, {
        headers: {
          apikey: stack.api.anonKey,
          authorization: `Bearer ${tokenOf(stack.consoleSignIn?.link ?? "")}`,
        },
      });
      expect(await response.json()).toMatchObject({ email: "operator@balansity.local" });
    } finally {
      await stack.stop();
    }
  }, 120_000);
});
