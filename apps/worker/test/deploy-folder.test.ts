/**
 * The container's /app without Docker: builds the bundle with the Dockerfile's own build command (read
 * from the Dockerfile, output swapped for a temporary folder), assembles a folder from exactly what the
 * runtime stage copies, checks what is in it, and runs the worker from that folder alone (no
 * node_modules anywhere above it) against a real database and a real SMTP server.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, relative, resolve } from "node:path";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCommand,
  execForm,
  healthcheckCommand,
  instructionsOf,
  readDockerfile,
  splitFlags,
  stage,
} from "./support/deploy-dockerfile.ts";
import {
  BUNDLE_DIR,
  repoPath,
  repoRoot,
  STOP_MARGIN_MS,
  workerDefaults,
  workerFolder,
  workerPackage,
} from "./support/deploy-files.ts";
import {
  exitWithin,
  freePort,
  minimalEnv,
  type RunningProcess,
  run,
  startProcess,
  waitFor,
} from "./support/deploy-process.ts";

const dockerfile = readDockerfile(repoPath(workerFolder, "Dockerfile"));
const runtime = stage(dockerfile, "runtime");
const startCommand = execForm(instructionsOf(runtime, "CMD")[0]!.args)!;
const healthcheck = healthcheckCommand(instructionsOf(runtime, "HEALTHCHECK")[0]!.args).command;
const shutdownTimeoutMs = workerDefaults().shutdownTimeoutMs;

/**
 * Imports the bundle may leave to node at run time besides its built-ins: optional ones the worker
 * never reaches (pg's native binding, only behind `pg.native`; pino-pretty, only for
 * LOG_FORMAT=pretty, which falls back to JSON where it is missing).
 */
const OPTIONAL_EXTERNALS = ["pg-native", "pino-pretty"];

/** Every file under `folder`, relative to it, sorted. */
async function filesUnder(folder: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push(relative(folder, path));
    }
  };
  await walk(folder);
  return files.sort();
}

/**
 * Does what the runtime stage's COPY instructions do, into `app`: the bundle from `bundleOut` (where
 * the build command wrote it), any other file of the build stage from the repository.
 */
async function copyLikeTheRuntimeStage(app: string, bundleOut: string, buildWorkdir: string): Promise<void> {
  const imageBundle = posix.join(buildWorkdir, workerFolder, BUNDLE_DIR);
  const [workdir] = instructionsOf(runtime, "WORKDIR").map((instruction) => instruction.args);
  for (const copy of instructionsOf(runtime, "COPY")) {
    const { flags, rest } = splitFlags(copy.args);
    expect(flags.get("from"), `COPY ${copy.args}`).toBe("build");
    const parts = rest.split(/\s+/);
    const destination = parts.pop()!;
    const target = join(app, posix.relative(workdir!, posix.resolve(workdir!, destination)));
    for (const source of parts) {
      const imagePath = posix.normalize(source);
      const local =
        imagePath === imageBundle || imagePath.startsWith(`${imageBundle}/`)
          ? join(bundleOut, posix.relative(imageBundle, imagePath))
          : repoPath(posix.relative(buildWorkdir, imagePath));
      if ((await stat(local)).isDirectory()) {
        await cp(local, target, { recursive: true });
      } else {
        await cp(local, destination.endsWith("/") ? join(target, basename(local)) : target);
      }
    }
  }
}

/**
 * The specifiers the bundle leaves to node: its top-level `import … from "…"` lines (the banner's
 * among them) and every `require("…")`, `__require("…")` or `import("…")` call. esbuild prints the
 * strings in code with double quotes, so quoted examples in comments and messages do not count.
 */
function externalSpecifiers(bundle: string): string[] {
  const found = new Set<string>();
  for (const pattern of [
    /^import\s[^;\n]*?\sfrom\s*["']([^"'\n]+)["'];/gm,
    /^import\s*["']([^"'\n]+)["'];/gm,
    /(?<![\w$.])(?:__require|require|import)\("([^"\n]+)"\)/g,
  ]) {
    for (const [, specifier] of bundle.matchAll(pattern)) found.add(specifier!);
  }
  return [...found].sort();
}

/** `folder` and each folder above it. */
function ancestors(folder: string): string[] {
  const found = [folder];
  while (dirname(found.at(-1)!) !== found.at(-1)) found.push(dirname(found.at(-1)!));
  return found;
}

let root: string;
let app: string;
let bundleOut: string;
let buildSeconds = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "balansity-deploy-"));
  app = join(root, "app");
  bundleOut = join(root, "build", BUNDLE_DIR);
  const { command, args, workdir } = buildCommand(dockerfile, bundleOut);
  const started = performance.now();
  await run(command, args, { cwd: repoRoot, timeoutMs: 110_000 });
  buildSeconds = (performance.now() - started) / 1000;
  await copyLikeTheRuntimeStage(app, bundleOut, workdir);
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the deployable folder", () => {
  it("is built by the Dockerfile's build command for the worker", () => {
    const { command, args, filter } = buildCommand(dockerfile, "/tmp/x");
    expect([command, ...args.slice(0, -2)]).toEqual(["pnpm", "--filter", filter, "build"]);
    expect(filter).toBe(workerPackage().name);
    expect(buildSeconds).toBeGreaterThan(0);
  });

  it("holds the bundle, the SMTP thread's, their source maps, the report fonts and the health probe, nothing else (no node_modules)", async () => {
    expect(await filesUnder(app)).toEqual([
      join("deploy", "healthcheck.mjs"),
      join(BUNDLE_DIR, "fonts", "DejaVuSans-Bold.ttf"),
      join(BUNDLE_DIR, "fonts", "DejaVuSans.ttf"),
      join(BUNDLE_DIR, "main.mjs"),
      join(BUNDLE_DIR, "main.mjs.map"),
      join(BUNDLE_DIR, "smtp-thread-body.mjs"),
      join(BUNDLE_DIR, "smtp-thread-body.mjs.map"),
    ]);
    expect(startCommand[0]).toBe("node");
    expect(startCommand.at(-1)).toBe(`${BUNDLE_DIR}/main.mjs`);
    for (const file of [startCommand.at(-1)!, healthcheck[1]!]) {
      expect(existsSync(join(app, file)), `${file} in the folder`).toBe(true);
    }
  });

  it("needs nothing but node: the bundles import only node's built-ins", async () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    for (const file of [startCommand.at(-1)!, join(BUNDLE_DIR, "smtp-thread-body.mjs")]) {
      const bundle = await readFile(join(app, file), "utf8");
      const external = externalSpecifiers(bundle).filter(
        (specifier) => !builtins.has(specifier) && !OPTIONAL_EXTERNALS.includes(specifier),
      );
      expect(external, file).toEqual([]);
    }
    // Nothing could be found by node's lookup either: no node_modules in or above the folder.
    expect(ancestors(app).filter((folder) => existsSync(join(folder, "node_modules")))).toEqual([]);
  });

  // V8 keeps each module's source in the heap while the worker runs, two bytes per character once one
  // is above U+00FF: the build strips comments and React's development builds (scripts/build.mjs).
  it("keeps the bundles' source small: one byte per character, no React development build", async () => {
    for (const file of [startCommand.at(-1)!, join(BUNDLE_DIR, "smtp-thread-body.mjs")]) {
      const bundle = await readFile(join(app, file), "utf8");
      expect(/[\u0100-\uffff]/.exec(bundle)?.[0], file).toBeUndefined();
    }
    const main = await readFile(join(app, startCommand.at(-1)!), "utf8");
    expect(main).toMatch(/\/cjs\/react-dom-server\.node\.production\.js"/);
    expect(main.match(/\/cjs\/[\w.-]+\.development\.js"/g) ?? []).toEqual([]);
    expect(main.length).toBeLessThan(6_000_000);
  });

  it("maps the bundle back to the TypeScript sources, without shipping them", async () => {
    const map = JSON.parse(await readFile(join(app, `${startCommand.at(-1)!}.map`), "utf8")) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    // Relative to where the build wrote the map (in the image: /repo/apps/worker/dist → ../src/main.ts).
    const sources = map.sources.map((source) => resolve(bundleOut, source));
    expect(sources).toContain(repoPath(workerFolder, "src", "main.ts"));
    expect(map.sourcesContent).toBeUndefined();
  });

  // --enable-source-maps decodes a bundle's whole map on the first stack trace through it: with the
  // dependencies' ~1,000,000 mappings that was ~100 MB of heap, and the worker under the start command's
  // --max-old-space-size=128 aborted out of memory the first time it logged an error with its stack.
  it("logs an error with its stack mapped to the sources and keeps running (the database away, /metrics fails)", async () => {
    const port = await freePort();
    const worker = startProcess(process.execPath, startCommand.slice(1), {
      cwd: app,
      env: {
        ...minimalEnv(),
        NODE_ENV: "production",
        DATABASE_URL: `postgres://worker@127.0.0.1:${await freePort()}/nothing`,
        SMTP_HOST: "127.0.0.1",
        SMTP_PORT: String(await freePort()),
        SMTP_SECURE: "none",
        SMTP_FROM: "noreply@balansity.test",
        WORKER_HTTP_HOST: "127.0.0.1",
        WORKER_HTTP_PORT: String(port),
        REPORT_FS_ALLOW_PRODUCTION: "true",
        REPORT_LINK_SECRET: randomBytes(32).toString("hex"),
      },
    });
    try {
      const status = await waitFor(
        "GET /metrics answers",
        async () =>
          (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).status,
        { timeoutMs: 60_000, process: worker },
      );
      expect(status).toBe(500);
      const logged = await waitFor(
        "the error logged",
        async () =>
          worker
            .stdout()
            .split("\n")
            .find((line) => line.includes('"ops endpoint failed"')),
        { timeoutMs: 10_000, process: worker },
      );
      expect(JSON.parse(logged).err.stack).toMatch(/packages\/queues\/src\/consumer\/metrics\.ts:\d+:\d+/);
      // Still alive and answering after the stack was printed.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(worker.exit()).toBeUndefined();
    } finally {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
  }, 90_000);

  it("exits with 78 (EX_CONFIG) on a configuration error, so no supervisor restarts it in a loop", async () => {
    const worker = startProcess(process.execPath, startCommand.slice(1), { cwd: app, env: minimalEnv() });
    const exit = await exitWithin(worker, 20_000);
    expect(exit).toEqual({ code: 78, signal: null });
    expect(worker.stderr()).toContain("DATABASE_URL");
  });
});

describe("the worker started from the deployable folder alone", () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let worker: RunningProcess;
  let baseUrl: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase("migrated"), startSmtpSink()]);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      ...minimalEnv(),
      NODE_ENV: "production",
      DATABASE_URL: db.url,
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.smtpPort),
      SMTP_SECURE: "none",
      SMTP_FROM: "noreply@balansity.test",
      WORKER_HTTP_HOST: "127.0.0.1",
      WORKER_HTTP_PORT: String(port),
      LOG_LEVEL: "info",
      // The folder store under NODE_ENV=production, allowed explicitly, with a secret made for this run.
      REPORT_FS_ALLOW_PRODUCTION: "true",
      REPORT_LINK_SECRET: randomBytes(32).toString("hex"),
    };
    // Exactly the image's CMD, with this node binary, in the folder: nothing from the repository.
    worker = startProcess(process.execPath, startCommand.slice(1), { cwd: app, env });
  });

  afterAll(async () => {
    if (worker && !worker.exit()) {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
    await sink?.stop();
    await db?.drop();
  });

  it("becomes ready (/readyz answers 200)", async () => {
    const body = await waitFor(
      "GET /readyz = 200",
      async () => {
        const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
        return response.status === 200 ? await response.json() : undefined;
      },
      { timeoutMs: 60_000, process: worker },
    );
    expect(body).toMatchObject({ status: "ready", failing: [] });
  }, 70_000);

  it("serves its Prometheus metrics", async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^balansity_\w+/m);
  });

  // Through tsx's loader the idle worker took ~170 MB (bench/RESULTS.md, email-pipeline), the bundle
  // ~90 MB; the production target is < 200 MB at peak, so an idle worker near 150 MB has lost the gain.
  it.skipIf(!existsSync("/proc/self/status"))("stays small: under 150 MB resident when ready", async () => {
    const status = await readFile(`/proc/${worker.child.pid}/status`, "utf8");
    const rssMb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) / 1024;
    expect(rssMb).toBeLessThan(150);
  });

  it("passes the image's health check, which fails when nothing answers", async () => {
    const probe = (port: string) =>
      startProcess(process.execPath, healthcheck.slice(1), {
        cwd: app,
        env: { ...minimalEnv(), WORKER_HTTP_HOST: "127.0.0.1", WORKER_HTTP_PORT: port },
      });
    expect(await exitWithin(probe(env.WORKER_HTTP_PORT!), 10_000)).toEqual({ code: 0, signal: null });
    expect(await exitWithin(probe(String(await freePort())), 10_000)).toEqual({ code: 1, signal: null });
  });

  it("renders and sends a queued email through SMTP", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("select public.queue_email_task($1, null, 'report_ready', $2::jsonb)", [
        "anna@example.com",
        JSON.stringify({
          assessment_id: "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
          report_url: "https://app.balansity.ru/reports/9b2f6c1e.pdf",
        }),
      ]);
    } finally {
      await client.end();
    }
    const [message] = await sink
      .waitForMessages(1, { to: "anna@example.com", timeoutMs: 30_000 })
      .catch((error) => {
        throw new Error(
          `${String(error)}\nworker stderr:\n${worker.stderr()}\nworker stdout:\n${worker.stdout().slice(-6000)}`,
        );
      });
    expect(message!.envelope.from).toBe("noreply@balansity.test");
    expect(message!.subject).not.toBe("");
    expect(message!.html).toContain("https://app.balansity.ru/reports/9b2f6c1e.pdf");
  }, 40_000);

  it("stops on SIGTERM with exit code 0 within its shutdown deadline", async () => {
    worker.child.kill("SIGTERM");
    const exit = await exitWithin(worker, shutdownTimeoutMs + STOP_MARGIN_MS);
    expect(exit, worker.stderr()).toEqual({ code: 0, signal: null });
  }, 60_000);

  it("logged only JSON lines to stdout, from start to stop", () => {
    const lines = worker
      .stdout()
      .split("\n")
      .filter((line) => line.trim() !== "");
    const notJson = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const messages = lines.map((line) => (JSON.parse(line) as { msg?: string }).msg);
    expect(messages).toContain("worker started");
    expect(messages).toContain("worker stopped");
  });
});
