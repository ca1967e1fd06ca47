/**
 * The deployment descriptors (Dockerfile, .dockerignore, docker-compose.yml, .env.example, PM2, systemd)
 * agree with the worker: its start command, its ops port and health path, its shutdown deadline, its
 * exit status for bad configuration, and every variable it reads.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { parseEnv } from "node:util";
import { queueNames } from "@balansity/queues";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { seedEraVariableNames } from "../src/config/seed-era-variables.ts";
import { startHttpServer } from "../src/ops/http-server.ts";
import { WorkerMetrics } from "../src/ops/worker-metrics.ts";
import {
  buildCommand,
  execForm,
  healthcheckCommand,
  instructionsOf,
  readDockerfile,
  splitFlags,
  stage,
  stageArgs,
} from "./support/deploy-dockerfile.ts";
import {
  BUNDLE_DIR,
  minimalWorkerEnv,
  readWorkerFile,
  repoPath,
  repoRoot,
  STOP_MARGIN_MS,
  workerDefaults,
  workerDir,
  workerFolder,
  workerPackage,
  workerPath,
} from "./support/deploy-files.ts";
import { minimalEnv, run } from "./support/deploy-process.ts";

const defaults = workerDefaults();
const dockerfile = readDockerfile(workerPath("Dockerfile"));
const runtime = stage(dockerfile, "runtime");
const imageCommand = execForm(instructionsOf(runtime, "CMD")[0]!.args)!;
const imageHealthcheck = healthcheckCommand(instructionsOf(runtime, "HEALTHCHECK")[0]!.args).command;
const compose = readWorkerFile("docker-compose.yml");
const composeStaging = readWorkerFile("deploy", "compose.staging.yml");
const envExample = readWorkerFile(".env.example");

/** `40s`, `1m30s`, `500ms` in milliseconds (compose durations). */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|h|m|s)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

/** The value of `key:` inside the YAML block that starts with `header` (two-space indentation). */
function yamlValue(text: string, header: string, key: string): string | undefined {
  const start = text.indexOf(`\n${header}\n`);
  if (start < 0) return undefined;
  const indent = /^\s*/.exec(header)![0].length;
  const lines = text.slice(start + header.length + 2).split("\n");
  for (const line of lines) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (/^\s*/.exec(line)![0].length <= indent) break;
    const match = new RegExp(`^\\s*${key}:\\s*(.*)$`).exec(line);
    if (match) return match[1]!.trim();
  }
  return undefined;
}

/** The systemd unit as `Section.Key` → values (a key may repeat). */
function readUnit(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const [key, ...value] = line.split("=");
    const name = `${section}.${key!.trim()}`;
    entries.set(name, [...(entries.get(name) ?? []), value.join("=").trim()]);
  }
  return entries;
}

describe("Dockerfile", () => {
  it("builds in the stages prune, build and runtime, all from one Node major pinned by tag", () => {
    expect(dockerfile.stages.map((candidate) => candidate.name)).toEqual(["prune", "build", "runtime"]);
    const engines = (
      JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { engines: { node: string } }
    ).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    for (const { image } of dockerfile.stages) expect(image).toBe(`node:${major}-bookworm-slim`);
  });

  it("prunes with the turbo version the lockfile installs", () => {
    const installed = JSON.parse(readFileSync(repoPath("node_modules", "turbo", "package.json"), "utf8")) as {
      version: string;
    };
    expect(stageArgs(stage(dockerfile, "prune")).get("TURBO_VERSION")).toBe(installed.version);
  });

  describe("copies only what exists", () => {
    let out: string;

    beforeAll(async () => {
      // The prune stage's command, with the repository's own turbo binary and a temporary output.
      out = await mkdtemp(join(tmpdir(), "balansity-prune-"));
      const prune = stage(dockerfile, "prune");
      const [runPrune] = instructionsOf(prune, "RUN").map((instruction) => splitFlags(instruction.args).rest);
      const turboArgs = /\bturbo@\S+\s+(.*)$/.exec(runPrune!)![1]!.split(/\s+/);
      const outIndex = turboArgs.indexOf("--out-dir");
      expect(turboArgs[outIndex + 1]).toBe("/out");
      turboArgs[outIndex + 1] = out;
      await run(repoPath("node_modules", ".bin", "turbo"), turboArgs, {
        cwd: repoRoot,
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
        timeoutMs: 60_000,
      });
    }, 90_000);

    afterAll(async () => {
      if (out) await rm(out, { recursive: true, force: true });
    });

    it("from the build context and from the pruned output", () => {
      const produced = new Map<string, string>([["prune", out]]);
      for (const { name, instructions } of dockerfile.stages) {
        for (const copy of instructions.filter((instruction) => instruction.keyword === "COPY")) {
          const { flags, rest } = splitFlags(copy.args);
          const sources = rest.split(/\s+/).slice(0, -1);
          const from = flags.get("from");
          for (const source of sources) {
            if (from === undefined) {
              expect(existsSync(repoPath(source)), `${name}: COPY ${source} (build context)`).toBe(true);
            } else if (produced.has(from)) {
              const path = join(produced.get(from)!, source.replace(/^\/out\/?/, ""));
              expect(existsSync(path), `${name}: COPY --from=${from} ${source}`).toBe(true);
            } else {
              // From the build stage: the bundle its build command writes (test/deploy-folder.test.ts
              // builds and runs it), or a file of the pruned workspace it works in.
              expect(from).toBe("build");
              const { workdir } = buildCommand(dockerfile, "/tmp/x");
              const inWorkspace = posix.relative(workdir, posix.normalize(source));
              expect(inWorkspace.startsWith(".."), `${name}: COPY --from=build ${source}`).toBe(false);
              if (inWorkspace !== posix.join(workerFolder, BUNDLE_DIR)) {
                expect(
                  existsSync(join(out, "full", inWorkspace)),
                  `${name}: COPY --from=build ${source}`,
                ).toBe(true);
              }
            }
          }
        }
      }
    });

    it("keeps the worker's own package.json and lockfile in the pruned workspace", () => {
      expect(existsSync(join(out, "json", "apps", "worker", "package.json"))).toBe(true);
      expect(existsSync(join(out, "full", "apps", "worker", "src", "main.ts"))).toBe(true);
      expect(existsSync(join(out, "full", "apps", "worker", "scripts", "build.mjs"))).toBe(true);
      expect(existsSync(join(out, "pnpm-lock.yaml"))).toBe(true);
      expect(existsSync(join(out, "full", "apps", "console"))).toBe(false);
    });
  });

  it("bundles the worker with its package's build script, from a frozen install of the pruned workspace", () => {
    const build = stage(dockerfile, "build");
    const runs = instructionsOf(build, "RUN").map((instruction) => splitFlags(instruction.args).rest);
    expect(runs).toContain("pnpm install --frozen-lockfile");
    const { command, args, filter } = buildCommand(dockerfile, "/tmp/x");
    expect([command, ...args.slice(0, -2)]).toEqual(["pnpm", "--filter", workerPackage().name, "build"]);
    expect(filter).toBe(workerPackage().name);
    expect(workerPackage().scripts.build).toBe("node scripts/build.mjs");
    // esbuild reads each package's tsconfig.json, which extends the root's: turbo prune leaves it out.
    const copies = instructionsOf(build, "COPY").map((instruction) => instruction.args);
    expect(copies).toContain("tsconfig.base.json ./");
  });

  it("runs nothing but node and the bundle: the runtime stage copies dist and the health probe", () => {
    const copies = instructionsOf(runtime, "COPY").map((instruction) => instruction.args);
    const { workdir } = buildCommand(dockerfile, "/tmp/x");
    expect(copies).toEqual([
      `--from=build ${posix.join(workdir, workerFolder, BUNDLE_DIR)}/ ./${BUNDLE_DIR}/`,
      `--from=build ${posix.join(workdir, workerFolder, imageHealthcheck[1]!)} ./${imageHealthcheck[1]!}`,
    ]);
    expect(instructionsOf(runtime, "WORKDIR").map((instruction) => instruction.args)).toEqual(["/app"]);
    // Nothing to install at run time: the bundle's dependencies are in it.
    expect(instructionsOf(runtime, "RUN")).toEqual([]);
  });

  it("starts the worker as its package's start script does, as a non-root user, in production mode", () => {
    expect(imageCommand).toEqual([
      "node",
      "--enable-source-maps",
      "--max-old-space-size=128",
      "--max-semi-space-size=8",
      `${BUNDLE_DIR}/main.mjs`,
    ]);
    expect(imageCommand.join(" ")).toBe(workerPackage().scripts.start);
    expect(instructionsOf(runtime, "USER").map((instruction) => instruction.args)).toEqual(["node"]);
    // The ops server on the container's network (the worker alone defaults to loopback).
    expect(instructionsOf(runtime, "ENV").map((instruction) => instruction.args)).toContain(
      "WORKER_HTTP_HOST=0.0.0.0",
    );
    expect(instructionsOf(runtime, "ENV").map((instruction) => instruction.args)).toContain(
      "NODE_ENV=production",
    );
    // glibc's malloc arenas bounded (bench/RESULTS.md, report-throughput).
    expect(instructionsOf(runtime, "ENV").map((instruction) => instruction.args)).toContain(
      "MALLOC_ARENA_MAX=2",
    );
    expect(instructionsOf(runtime, "STOPSIGNAL").map((instruction) => instruction.args)).toEqual(["SIGTERM"]);
    // The bundle runs without a loader: tsx is for development (dev, start:ts) only.
    expect(workerPackage().dependencies).not.toHaveProperty("tsx");
  });

  it("exposes the ops port the worker listens on by default, and probes it with node", () => {
    expect(instructionsOf(runtime, "EXPOSE").map((instruction) => instruction.args)).toEqual([
      String(defaults.http.port),
    ]);
    expect(imageHealthcheck).toEqual(["node", "deploy/healthcheck.mjs", "/healthz"]);
    expect(existsSync(workerPath(imageHealthcheck[1]!))).toBe(true);
  });
});

describe(".dockerignore (the build context is the repository root)", () => {
  const patterns = readFileSync(repoPath(".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  it("keeps out dependencies, local state, git history, logs, env files and transfer backups, but not the example", () => {
    for (const pattern of [
      "**/transfer-backups",
      "**/*.dump",
      "**/*.jsonl.gz",
      "**/node_modules",
      "**/.devstack",
      "**/.turbo",
      "**/dist",
      "**/*.log",
      ".git",
      "**/.env",
    ]) {
      expect(patterns).toContain(pattern);
    }
    expect(patterns).toContain("!**/.env.example");
    // Docker applies the last matching line: the exception must come after the exclusion.
    expect(patterns.indexOf("!**/.env.example")).toBeGreaterThan(patterns.indexOf("**/.env.*"));
  });

  it("keeps in what the image builds and runs: the sources, the build script, tsconfig, the health probe", () => {
    for (const pattern of patterns.filter((line) => !line.startsWith("!"))) {
      expect([
        "apps",
        "apps/worker",
        "apps/worker/deploy",
        "apps/worker/scripts",
        "apps/worker/src",
        "packages",
      ]).not.toContain(pattern);
      expect(pattern).not.toMatch(/deploy|\.mjs|src|scripts|tsconfig/);
    }
  });
});

describe("docker-compose.yml", () => {
  it("builds this Dockerfile from the repository root", () => {
    const context = yamlValue(compose, "    build:", "context");
    const file = yamlValue(compose, "    build:", "dockerfile");
    expect(resolve(workerDir, context!)).toBe(repoRoot);
    expect(resolve(repoRoot, file!)).toBe(workerPath("Dockerfile"));
  });

  it("checks health with the image's own probe, on a path the ops server answers 200", async () => {
    const test = yamlValue(compose, "    healthcheck:", "test");
    const command = JSON.parse(test!) as string[];
    expect(command).toEqual(["CMD", ...imageHealthcheck]);

    const metrics = new WorkerMetrics({ query: async () => ({ rows: [] }) } as never);
    const server = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      health: { live: () => true, ready: async () => [] },
      metrics,
      logger: pino({ level: "silent" }),
    });
    try {
      const response = await fetch(new URL(command.at(-1)!, server.url));
      expect(response.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("gives the worker longer to stop than its shutdown deadline, and restarts it unless stopped", () => {
    expect(yamlValue(compose, "  worker:", "stop_grace_period")).toBeDefined();
    const grace = durationMs(yamlValue(compose, "  worker:", "stop_grace_period")!);
    expect(grace).toBeGreaterThanOrEqual(defaults.shutdownTimeoutMs + STOP_MARGIN_MS);
    expect(yamlValue(compose, "  worker:", "stop_signal")).toBe("SIGTERM");
    expect(yamlValue(compose, "  worker:", "restart")).toBe("unless-stopped");
    expect(yamlValue(compose, "  worker:", "env_file")).toBe(".env");
  });

  it("publishes the ops port on loopback only, the worker's default unless .env says otherwise", () => {
    expect(compose).toContain(
      `"127.0.0.1:\${WORKER_HTTP_PORT:-${defaults.http.port}}:\${WORKER_HTTP_PORT:-${defaults.http.port}}"`,
    );
  });

  it("holds no secret: every password, key and connection string comes from .env", () => {
    for (const text of [compose, composeStaging]) {
      for (const [, name, value] of text.matchAll(
        /^\s*-?\s*(\w*(?:PASS|SECRET|KEY|TOKEN|DATABASE_URL)\w*)\s*[:=]\s*(.*)$/gm,
      )) {
        expect(value!.trim(), `${name} is set in a compose file`).toMatch(/^(""|'')?$/);
      }
    }
  });

  it("runs Mailpit only under the staging profile, and the staging override points the worker at it", () => {
    expect(yamlValue(compose, "  mailpit:", "image")).toMatch(/^axllent\/mailpit:v\d+/);
    expect(compose).toMatch(/ {2}mailpit:\n(?: {4}.*\n)*? {4}profiles:\n {6}- staging\n/);
    expect(composeStaging).toContain("profiles: !reset []");

    // What the worker gets in staging: .env (here: the example) with the override's environment on top.
    const staging = Object.fromEntries(
      ["SMTP_HOST", "SMTP_PORT", "SMTP_SECURE", "SMTP_USER", "SMTP_PASS"].map((name) => {
        const value = yamlValue(composeStaging, "    environment:", name)!;
        return [name, value.replace(/^"(.*)"$/, "$1")];
      }),
    );
    const config = loadConfig({ ...minimalWorkerEnv, ...exampleEnvWithCert(), ...staging });
    expect(config.smtp).toMatchObject({ host: "mailpit", port: 1025, security: "none", user: undefined });
    expect(config.smtp.password).toBeUndefined();
  });
});

let certDir: string;
let certPath: string;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), "balansity-cert-"));
  certPath = join(certDir, "prod-ca-2021.crt");
  // loadConfig only checks that the file is PEM; TLS is not used here.
  await writeFile(certPath, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
});
afterAll(async () => {
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

/** .env.example as an environment, its CA certificate path pointed at a file that exists. */
function exampleEnvWithCert(): Record<string, string> {
  return { ...parseEnv(envExample), DATABASE_SSL_CA: certPath } as Record<string, string>;
}

describe(".env.example", () => {
  /** Every variable name the worker's configuration reads. */
  function variablesTheWorkerReads(): Set<string> {
    const names = new Set<string>();
    // The worker's own settings: record every name loadConfig looks up.
    const recorder = new Proxy({} as Record<string, string | undefined>, {
      get(_, key) {
        if (typeof key === "string") names.add(key);
        return undefined;
      },
    });
    expect(() => loadConfig(recorder)).toThrow();
    // The database settings are read by @balansity/db from a copy of the environment: take their names
    // from its source.
    const source = readFileSync(repoPath("packages", "db", "src", "load-database-config.ts"), "utf8");
    for (const [name] of source.matchAll(/\bDATABASE_[A-Z_]+\b/g)) names.add(name);
    return names;
  }

  it("lists every variable the worker reads (set, or commented out with its default)", () => {
    const listed = new Set(
      [...envExample.matchAll(/^(?:#\s*(?:e\.g\.\s+)?)?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!),
    );
    const read = variablesTheWorkerReads();
    for (const queue of queueNames) expect(read).toContain(`QUEUE_${queue.toUpperCase()}_CONCURRENCY`);
    const seedEra = new Set<string>(seedEraVariableNames);
    expect([...read].filter((name) => !listed.has(name) && !seedEra.has(name)).sort()).toEqual([]);
  });

  it("shows the worker's real defaults in its commented-out lines", () => {
    const commented = Object.fromEntries(
      [...envExample.matchAll(/^#\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [
        match[1]!,
        match[2]!.trim(),
      ]),
    );
    expect(Object.keys(commented)).toContain("QUEUE_ANALYTICS_QUEUE_CONCURRENCY");
    // Setting every one of them must change nothing.
    expect(loadConfig({ ...minimalWorkerEnv, ...commented })).toEqual(defaults);
  });

  it("has a comment for every group and no comment after a value (systemd would keep it in the value)", () => {
    for (const line of envExample.split("\n").filter((candidate) => /^[A-Z]/.test(candidate))) {
      expect(line, "inline comment").not.toMatch(/\s#/);
    }
  });

  it("holds placeholders, never a password or key", () => {
    const env = parseEnv(envExample.replace(/^#\s*(?:e\.g\.\s+)?([A-Z][A-Z0-9_]*=)/gm, "$1"));
    expect(env.DATABASE_URL).toBe(
      "postgresql://postgres.<project-ref>:<password>@aws-0-eu-north-1.pooler.supabase.com:5432/postgres",
    );
    for (const [name, value] of Object.entries(env)) {
      if (/PASS|SECRET|KEY/.test(name)) expect(value, name).toMatch(/^<[a-z-]+>$/);
    }
  });

  it("is a configuration the worker accepts, for Supabase's session pooler (LISTEN available)", () => {
    const config = loadConfig(exampleEnvWithCert());
    expect(config.database).toMatchObject({
      host: "aws-0-eu-north-1.pooler.supabase.com",
      port: 5432,
      supportsListen: true,
      ssl: { mode: "verify-full" },
      pooler: { mode: "session", supabase: true },
    });
    expect(config.smtp).toMatchObject({ host: "mail.nic.ru", port: 587, security: "starttls" });
    expect(config.shutdownTimeoutMs).toBe(defaults.shutdownTimeoutMs);
  });
});

describe("ecosystem.config.cjs (PM2)", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "balansity-pm2-"));
  });
  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  /** The process file as PM2 sees it, loaded by node with `env` as the whole environment. */
  function ecosystem(env: Record<string, string>) {
    const json = execFileSync(process.execPath, ["-p", "JSON.stringify(require('./ecosystem.config.cjs'))"], {
      cwd: workerDir,
      env: { ...minimalEnv(), ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return (JSON.parse(json) as { apps: Record<string, unknown>[] }).apps;
  }

  it("runs the bundle under the name balansity-queue-worker with plain node, in fork mode, stopping gracefully", () => {
    const [app, ...others] = ecosystem({ WORKER_ENV_FILE: join(folder, "absent.env") });
    expect(others).toEqual([]);
    expect(app).toMatchObject({
      name: "balansity-queue-worker",
      cwd: workerDir.replace(/\/$/, ""),
      script: `${BUNDLE_DIR}/main.mjs`,
      interpreter: "node",
      node_args: "--enable-source-maps --max-old-space-size=128 --max-semi-space-size=8",
      exec_mode: "fork",
      instances: 1,
      stop_exit_codes: [78],
      env: { NODE_ENV: "production", MALLOC_ARENA_MAX: "2", WORKER_HTTP_PORT: String(defaults.http.port) },
    });
    expect([app!.interpreter, app!.node_args, app!.script].join(" ")).toBe(imageCommand.join(" "));
    // The folder PM2 runs in is the image's /app: the bundle is one of the files the runtime stage copies
    // (test/deploy-folder.test.ts builds that folder and runs the worker from it).
    expect(instructionsOf(runtime, "COPY").some((copy) => copy.args.endsWith(` ./${BUNDLE_DIR}/`))).toBe(
      true,
    );
    expect(app!.kill_timeout).toBeGreaterThanOrEqual(defaults.shutdownTimeoutMs + STOP_MARGIN_MS);
    expect(app!.max_memory_restart).toBe("512M");
  });

  it("has node read the env file, and takes instances, port and deadline from it", async () => {
    const envFile = join(folder, "worker.env");
    await writeFile(
      envFile,
      "WORKER_PM2_INSTANCES=3\nWORKER_HTTP_PORT=9100\nWORKER_SHUTDOWN_TIMEOUT_MS=60000\nSMTP_PASS='a$b'\n",
    );
    const [app] = ecosystem({ WORKER_ENV_FILE: envFile });
    expect(app).toMatchObject({
      node_args: `--env-file=${envFile} --enable-source-maps --max-old-space-size=128 --max-semi-space-size=8`,
      instances: 3,
      increment_var: "WORKER_HTTP_PORT",
      env: { NODE_ENV: "production", MALLOC_ARENA_MAX: "2", WORKER_HTTP_PORT: "9100" },
      kill_timeout: 60_000 + 15_000,
    });
    // Secrets stay in the file: PM2 is given its path, not its values.
    expect(JSON.stringify(app)).not.toContain("a$b");
  });

  it("refuses an instance count that is not a whole number", () => {
    expect(() =>
      ecosystem({ WORKER_ENV_FILE: join(folder, "absent.env"), WORKER_PM2_INSTANCES: "two" }),
    ).toThrow(/WORKER_PM2_INSTANCES must be a whole number/);
  });
});

describe("deploy/balansity-worker.service (systemd)", () => {
  const unitPath = workerPath("deploy", "balansity-worker.service");
  const unit = readUnit(readFileSync(unitPath, "utf8"));
  const one = (key: string) => {
    const values = unit.get(key) ?? [];
    expect(values, key).toHaveLength(1);
    return values[0]!;
  };

  it("runs the image's command from the deployed folder as an unprivileged user", () => {
    expect(one("Service.Type")).toBe("simple");
    expect(one("Service.User")).toBe("balansity");
    expect(one("Service.WorkingDirectory")).toBe("/opt/balansity-worker");
    expect(one("Service.EnvironmentFile")).toBe("/etc/balansity/worker.env");
    expect(one("Service.ExecStart")).toBe(["/usr/bin/node", ...imageCommand.slice(1)].join(" "));
    // The image's process environment: production mode, two glibc malloc arenas.
    expect(unit.get("Service.Environment")).toEqual(["NODE_ENV=production", "MALLOC_ARENA_MAX=2"]);
  });

  it("restarts on failure but not on a configuration error (exit 78)", () => {
    expect(one("Service.Restart")).toBe("on-failure");
    expect(one("Service.RestartPreventExitStatus").split(/\s+/)).toContain("78");
  });

  it("stops with SIGTERM and waits longer than the worker's shutdown deadline", () => {
    expect(one("Service.KillSignal")).toBe("SIGTERM");
    const stopSeconds = Number(one("Service.TimeoutStopSec"));
    expect(stopSeconds * 1000).toBeGreaterThanOrEqual(defaults.shutdownTimeoutMs + STOP_MARGIN_MS);
  });

  it("is hardened, without breaking V8's JIT", () => {
    expect(one("Service.NoNewPrivileges")).toBe("yes");
    expect(one("Service.ProtectSystem")).toBe("strict");
    expect(one("Service.ProtectHome")).toBe("yes");
    expect(one("Service.PrivateTmp")).toBe("yes");
    expect(unit.get("Service.MemoryDenyWriteExecute") ?? []).not.toContain("yes");
  });

  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((path) => existsSync(path));
  it.skipIf(!analyze || !existsSync("/usr/bin/node"))(
    "passes systemd-analyze verify without a warning",
    () => {
      // Unknown keys are only warned about (on stderr) and the exit status stays 0: check both.
      const result = spawnSync(analyze!, ["verify", unitPath], { encoding: "utf8" });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toBe("");
    },
  );
});
