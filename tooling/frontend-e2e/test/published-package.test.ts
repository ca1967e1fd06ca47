// The frontend's view of @balansity/queues, outside the workspace: the package is built and packed
// as a release packs it, published to a private registry started here (verdaccio), installed into a
// fresh Vite app in a temporary folder next to supabase-js, type-checked with tsc against the
// published declarations, built with Vite and run in Chromium against the devstack's API (tables,
// RPCs, Storage's signed links over the folder store) with a real worker rendering the reports.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { applySeed, type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { type Browser, chromium } from "playwright-core";
import { build, type PreviewServer, preview } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRegistry, startLocalRegistry } from "./support/registry.ts";
import { spawnWorker, type WorkerProcess } from "./support/worker-process.ts";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const QUEUES = join(REPO, "packages/queues");
const APP_TEMPLATE = fileURLToPath(new URL("../app/", import.meta.url));
const TSC = join(require.resolve("typescript/package.json"), "..", "bin", "tsc");
const CHROMIUM = "/usr/bin/chromium";

// Seeded users (supabase/seed.sql): Anna has an open checkup; Oleg's is someone else's report.
const ANNA = { id: "11111111-1111-4111-8111-111111111111", email: "anna.ivanova@example.com" };
const OLEG_CHECKUP = "aaaaaaaa-0000-4000-8000-000000000004";

let scratch: string;
let tarball: string;
let registry: LocalRegistry;
let appDir: string;
let db: TestDatabase;
let pool: pg.Pool;
let api: PostgrestRpc;
let smtp: SmtpSink;
let worker: WorkerProcess;
let site: PreviewServer | undefined;
let browser: Browser | undefined;

async function sh(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  try {
    return await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} failed:\n${failed.stdout ?? ""}\n${failed.stderr ?? ""}`, {
      cause: error,
    });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The session fragment a Supabase magic link lands with (implicit flow), for a seeded user. */
function signInFragment(user: { id: string; email: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const accessToken = api.signJwt({
    role: "authenticated",
    aud: "authenticated",
    sub: user.id,
    email: user.email,
    app_metadata: { provider: "email" },
    user_metadata: {},
    iat: now,
    exp: now + 3600,
  });
  return new URLSearchParams({
    access_token: accessToken,
    token_type: "bearer",
    expires_in: "3600",
    expires_at: String(now + 3600),
    refresh_token: "devstack-no-refresh",
    type: "magiclink",
  }).toString();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "balansity-frontend-"));

  // Build and pack as `pnpm release` does (changeset publish runs pnpm publish, which packs so).
  await sh("pnpm", ["run", "build"], QUEUES);
  await sh("pnpm", ["pack", "--pack-destination", scratch], QUEUES);
  const packed = (await readdir(scratch)).filter((name) => name.endsWith(".tgz"));
  expect(packed).toHaveLength(1);
  tarball = join(scratch, packed[0] as string);

  // Publish it to a registry of this run's own.
  registry = await startLocalRegistry(join(scratch, "registry"), await freePort());
  const host = new URL(registry.url).host;
  const publishConfig = join(scratch, "publish.npmrc");
  await writeFile(publishConfig, `//${host}/:_authToken=${registry.token}\n`, { mode: 0o600 });
  await sh("npm", ["publish", tarball, "--registry", registry.url, "--userconfig", publishConfig], scratch);

  // A fresh app: @balansity from the local registry only, everything else from the usual one.
  appDir = join(scratch, "app");
  await cp(APP_TEMPLATE, appDir, { recursive: true });
  const queuesVersion = (
    JSON.parse(await readFile(join(QUEUES, "package.json"), "utf8")) as { version: string }
  ).version;
  const supabaseVersion = (
    JSON.parse(
      await readFile(
        createRequire(join(QUEUES, "package.json")).resolve("@supabase/supabase-js/package.json"),
        "utf8",
      ),
    ) as { version: string }
  ).version;
  await writeFile(
    join(appDir, "package.json"),
    JSON.stringify(
      {
        name: "balansity-frontend-check",
        private: true,
        type: "module",
        dependencies: { "@balansity/queues": queuesVersion, "@supabase/supabase-js": supabaseVersion },
      },
      null,
      2,
    ),
  );
  await writeFile(join(appDir, ".npmrc"), `@balansity:registry=${registry.url}\n`);
  const emptyUserConfig = join(scratch, "user.npmrc");
  await writeFile(emptyUserConfig, "");
  await sh(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      // Where each package came from is what the test checks: some machines' npm config omits it.
      "--omit-lockfile-registry-resolved=false",
      "--cache",
      join(scratch, "npm-cache"),
      "--userconfig",
      emptyUserConfig,
    ],
    appDir,
  );

  // The stack: database with the seed, the API (with Storage over the folder store), mail, a worker.
  db = await createTestDatabase();
  await applySeed(db.url);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => undefined);
  const reportsDir = join(scratch, "reports");
  await mkdir(reportsDir, { recursive: true });
  const linkSecret = randomBytes(32).toString("base64url");
  api = await startPostgrestRpc({
    databaseUrl: db.url,
    jwtSecret: randomJwtSecret(),
    storage: { dir: reportsDir, linkSecret },
  });
  smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  worker = await spawnWorker({
    databaseUrl: db.url,
    smtpPort: smtp.smtpPort,
    env: {
      REPORT_FS_DIR: reportsDir,
      REPORT_PUBLIC_URL: `${api.url}/storage/v1/object/sign/reports/`,
      REPORT_LINK_SECRET: linkSecret,
    },
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.stop();
  await smtp?.stop();
  await api?.stop();
  await pool?.end();
  await db?.drop();
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("@balansity/queues as the frontend gets it", () => {
  it("the tarball holds only built JavaScript, declarations, maps, the README and package.json", async () => {
    const { stdout } = await sh("npm", ["pack", "--dry-run", "--json", tarball], scratch);
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((file) => file.path).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        "README.md",
        "package.json",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/supabase.js",
        "dist/supabase.d.ts",
      ]),
    );
    for (const file of files) {
      expect(file).toMatch(
        /^(?:README\.md|package\.json|dist\/(?:[\w.-]+\/)*[\w.-]+\.(?:js|js\.map|d\.ts))$/,
      );
      expect(file).not.toMatch(/(?:^|\/)(?:test|tests|__tests__)\/|\.(?:test|spec)\.|\.tsx?$(?<!\.d\.ts)/);
    }
    // The published manifest: built entries with types, no workspace ranges, zod as the one dependency.
    const { stdout: manifest } = await sh("tar", ["-xzOf", tarball, "package/package.json"], scratch);
    const published = JSON.parse(manifest) as Record<string, unknown>;
    expect(published.exports).toEqual({
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
      "./supabase": { types: "./dist/supabase.d.ts", default: "./dist/supabase.js" },
      "./package.json": "./package.json",
    });
    expect(published.sideEffects).toBe(false);
    expect(Object.keys(published.dependencies as object)).toEqual(["zod"]);
    expect(manifest).not.toMatch(/workspace:|catalog:/);
  });

  it("is installed from the local registry, not from the workspace or a path", async () => {
    const lock = JSON.parse(await readFile(join(appDir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { resolved?: string; link?: boolean }>;
    };
    const installed = lock.packages["node_modules/@balansity/queues"];
    expect(installed?.link).toBeUndefined();
    expect(installed?.resolved?.startsWith(registry.url)).toBe(true);
    expect(lock.packages["node_modules/@balansity/emails"]).toBeUndefined();
    expect((await readdir(join(appDir, "node_modules/@balansity/queues"))).sort()).toEqual([
      "README.md",
      "dist",
      "package.json",
    ]);
  });

  it("type-checks with tsc against the published declarations", async () => {
    // As Vite's templates do (skipLibCheck): the app's use of the declarations is checked.
    await sh(process.execPath, [TSC, "-p", join(appDir, "tsconfig.json")], appDir);
    // The declarations themselves too: with skipLibCheck off the only errors are supabase-js' own
    // (its declarations name Node's Buffer and NodeJS, which a browser app has no types for).
    const strict = await sh(
      process.execPath,
      [TSC, "-p", join(appDir, "tsconfig.json"), "--skipLibCheck", "false"],
      appDir,
    ).then(
      () => "",
      (error: Error) => error.message,
    );
    const errorLines = strict.split("\n").filter((line) => /error TS\d+/.test(line));
    expect(errorLines.filter((line) => !line.startsWith("node_modules/@supabase/"))).toEqual([]);
    // The check is real: a wrong use of the published types fails it.
    const wrong = join(appDir, "src", "wrong.ts");
    await writeFile(
      wrong,
      'import { RateLimitedError } from "@balansity/queues";\nexport const when: number = new RateLimitedError("x", new Date()).retryAt;\n',
    );
    const failure = await sh(process.execPath, [TSC, "-p", join(appDir, "tsconfig.json")], appDir).then(
      () => "compiled",
      (error: Error) => error.message,
    );
    await rm(wrong);
    expect(failure).toMatch(/wrong\.ts.*TS2322: Type 'Date' is not assignable to type 'number'/);
  });

  it("builds with Vite and, in Chromium, completes a checkup, downloads its report by a fresh link, is refused another's and is rate limited", async () => {
    // Someone else's report, rendered by the worker: Oleg completes his checkup (server side).
    await pool.query(
      `update public.assessments set status = 'completed', answers = '{"q1":3,"q2":3,"q3":3,"q4":3,"q5":3,"q6":3}' where id = $1`,
      [OLEG_CHECKUP],
    );
    await writeFile(
      join(appDir, ".env.production"),
      `VITE_SUPABASE_URL=${api.url}\nVITE_SUPABASE_ANON_KEY=${api.anonKey}\n`,
    );
    await build({ root: appDir, configFile: false, logLevel: "warn", mode: "production" });
    site = await preview({
      root: appDir,
      configFile: false,
      logLevel: "warn",
      preview: { host: "127.0.0.1", port: await freePort(), strictPort: true },
    });
    const siteUrl = site.resolvedUrls?.local[0] ?? "";
    const otherReport = await waitFor(
      "the worker to render Oleg's report",
      async () =>
        (
          await pool.query<{ id: string }>("select id from public.reports where assessment_id = $1", [
            OLEG_CHECKUP,
          ])
        ).rows[0]?.id,
      120_000,
    );

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const startedAt = Date.now();
    await page.goto(`${siteUrl}?other=${otherReport}#${signInFragment(ANNA)}`);
    await page.waitForFunction("document.getElementById('result')?.textContent !== 'running'", undefined, {
      timeout: 240_000,
    });
    const outcome = JSON.parse((await page.textContent("#result")) ?? "{}") as {
      ok: boolean;
      error?: string;
      result: {
        userId: string;
        assessmentId: string;
        completed: unknown;
        reportId: string;
        link: { url: string; expiresAt: string };
        download: { status: number; type: string; size: number; magic: string };
        foreign: string;
        accepted: number[];
        limited?: { code: string; retryAt: string; retryAfterSeconds: number };
        signedOut: string;
      };
    };
    expect(pageErrors).toEqual([]);
    expect(outcome.error).toBeUndefined();
    const result = outcome.result;

    // Signed in as Anna; her open checkup completed through supabase-js.
    expect(result.userId).toBe(ANNA.id);
    expect(result.completed).toEqual([{ id: result.assessmentId, status: "completed" }]);
    // The report row the worker wrote is hers, and the fresh link downloaded the PDF.
    const { rows } = await pool.query<{ user_id: string; size_bytes: number }>(
      "select user_id, size_bytes from public.reports where id = $1",
      [result.reportId],
    );
    expect(rows[0]?.user_id).toBe(ANNA.id);
    expect(result.link.url.startsWith(`${api.url}/storage/v1/object/sign/reports/${ANNA.id}/`)).toBe(true);
    expect(result.download).toEqual({
      status: 200,
      type: "application/pdf",
      size: rows[0]?.size_bytes,
      magic: "%PDF-",
    });
    // Oleg's report: no link for Anna.
    expect(result.foreign).toBe("not_owner");
    // Three new reports a day (the default limit), then RateLimitedError with when to retry: a day
    // after the first of the three.
    expect(result.accepted).toHaveLength(3);
    expect(result.limited?.code).toBe("rate_limited");
    const retryAt = Date.parse(result.limited?.retryAt ?? "");
    expect(retryAt).toBeGreaterThan(startedAt + 86_400_000 - 1000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(result.limited?.retryAfterSeconds).toBeGreaterThan(86_000);
    const requests = await pool.query("select 1 from automation.report_requests where user_id = $1", [
      ANNA.id,
    ]);
    expect(requests.rowCount).toBe(3);
    // Signed out, the same call is NotSignedInError.
    expect(result.signedOut).toBe("not_signed_in");

    // The link in the report_ready email (signed by the worker's folder store) opens as well.
    const email = await waitFor(
      "Anna's report_ready email",
      async () =>
        smtp
          .messages()
          .find(
            (message) =>
              message.envelope.to.includes(ANNA.email) &&
              /\/storage\/v1\/object\/sign\/reports\//.test(message.text ?? ""),
          ),
      60_000,
    );
    const emailed =
      /(http:\/\/\S+\/storage\/v1\/object\/sign\/reports\/\S+)/.exec(email.text ?? "")?.[1] ?? "";
    const fromEmail = await fetch(emailed);
    expect(fromEmail.status).toBe(200);
    expect(fromEmail.headers.get("content-type")).toBe("application/pdf");
  }, 400_000);
});
