/**
 * docs/deploy-supabase-cloud.md, run: every ```sh test=<name> block, in order, each in its own bash
 * (`set -euo pipefail`) from the repository root, with local stand-ins for the Cloud: a fresh database
 * holding what a new Supabase project holds (platform objects and pgmq, no migrations), an SMTP sink,
 * and `docker` answered by buildah and podman. The guide's ```sh env block says which variables the
 * reader sets; the test gives each one a stand-in (or leaves it unset, with the reason below) and fails
 * when the guide uses a variable it does not set. The ```dotenv block is the worker's env file, written
 * with the stand-ins' values.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildImage,
  containerToolsMissing,
  podman,
  withImageLock,
  writeDockerShim,
} from "./support/container-engine.ts";
import { readDockerfile, stage } from "./support/deploy-dockerfile.ts";
import { repoPath, repoRoot, workerPath } from "./support/deploy-files.ts";
import { freePort, minimalEnv, run } from "./support/deploy-process.ts";
import { assignedNames, fencedBlocks, referencedNames, testedShellBlocks } from "./support/guide-blocks.ts";
import { ensureBaseImage } from "./support/local-base-image.ts";

const guidePath = repoPath("docs", "deploy-supabase-cloud.md");
const guide = await readFile(guidePath, "utf8");
const blocks = testedShellBlocks(guide);
const envBlocks = fencedBlocks(guide).filter((block) => block.info === "sh env");
const dotenvBlocks = fencedBlocks(guide).filter((block) => block.info === "dotenv");

/**
 * Variables of the guide's env block the stand-ins leave unset: the local database speaks no TLS, so
 * there is no CA to verify it against (the profiles' TLS behaviour has its own tests in @balansity/db).
 */
const UNSET_LOCALLY: Readonly<Record<string, string>> = {
  DATABASE_SSL_CA: "the local stand-in database has no TLS",
};

/** Names the shell itself provides. */
const SHELL_NAMES = new Set(["HOME", "PATH", "PWD"]);

const missing = containerToolsMissing();
if (missing) console.warn(`[deploy-guide] the guide's commands are not run: ${missing}`);

describe("docs/deploy-supabase-cloud.md", () => {
  it("has one env block and its tested blocks in the order a deployment takes", () => {
    expect(envBlocks).toHaveLength(1);
    expect(dotenvBlocks).toHaveLength(1);
    expect(blocks.map((block) => block.name)).toEqual([
      "migrate",
      "transfer",
      "transfer-done",
      "doctor",
      "build",
      "secrets",
      "run",
      "verify",
      "queues",
      "smoke",
      "rollback",
    ]);
  });

  it("sets in its env block every variable its tested commands use", () => {
    const set = new Set(assignedNames(envBlocks[0]!.body));
    const used = blocks.flatMap((block) => referencedNames(block.body));
    expect([...new Set(used)].filter((name) => !set.has(name) && !SHELL_NAMES.has(name))).toEqual([]);
  });

  it("names in its env file only variables the worker documents in apps/worker/.env.example", async () => {
    const example = await readFile(workerPath(".env.example"), "utf8");
    const documented = new Set(
      example.split("\n").flatMap((line) => /^#?\s*(?:e\.g\.\s+)?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []),
    );
    const names = assignedNames(dotenvBlocks[0]!.body);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });

  it("holds no password or key: every secret in its blocks is a <placeholder>", () => {
    for (const block of [...envBlocks, ...dotenvBlocks]) {
      for (const line of block.body.split("\n")) {
        if (/PASS|SECRET|KEY|PASSWORD/.test(line.split("=")[0]!)) expect(line).toMatch(/=<[\w-]+>$/);
      }
      expect(block.body).not.toMatch(/:\/\/[^<\s]*:[^<@\s]+@/);
    }
  });
});

describe.skipIf(missing !== undefined)(
  missing
    ? `the guide's commands (skipped: ${missing})`
    : "the guide's commands, run against local stand-ins for Supabase Cloud",
  () => {
    const release = `guide-${randomBytes(3).toString("hex")}`;
    const previousRelease = `${release}-previous`;
    const operatorEmail = "operator@example.com";
    let db: TestDatabase;
    let oldDb: TestDatabase;
    let sink: SmtpSink;
    let work: string;
    let env: Record<string, string>;
    let httpPort: number;
    /** What the reader types into the env file: the guide's names with the stand-ins' values. */
    let envFileContent: string;

    beforeAll(async () => {
      // The base image the Dockerfile names, and the build's layers: shared with container-image.test.ts,
      // one at a time, so the guide's `docker build` below finds them cached.
      const dockerfile = readDockerfile(workerPath("Dockerfile"));
      await withImageLock(async () => {
        await ensureBaseImage(stage(dockerfile, "runtime").image);
        await buildImage({
          dockerfile: workerPath("Dockerfile"),
          context: repoRoot,
          tag: "localhost/balansity-worker:test",
          timeoutMs: 900_000,
        });
      });
      [db, oldDb, sink] = await Promise.all([
        createTestDatabase("platform"),
        createTestDatabase("migrated"),
        startSmtpSink(),
      ]);
      work = await mkdtemp(join(tmpdir(), "balansity-guide-"));
      await writeDockerShim(work);
      httpPort = await freePort();
      // Any certificate file does for the mount: the local profile reads none.
      const caFile = join(work, "prod-ca-2021.crt");
      await writeFile(caFile, "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n");
      env = {
        ...minimalEnv(),
        PATH: `${work}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
        DATABASE_PROFILE: "local",
        DATABASE_URL: db.url,
        SUPABASE_CA_FILE: caFile,
        WORKER_ENV_FILE: join(work, "etc", "balansity", "worker.env"),
        RELEASE: release,
        PREVIOUS_RELEASE: previousRelease,
        OPERATOR_EMAIL: operatorEmail,
        TRANSFER_FROM_URL: oldDb.url,
        TRANSFER_TO_URL: db.url,
        BACKUP_DIR: join(work, "backups"),
        // The local stand-in speaks no TLS.
        PSQL_SSLMODE: "disable",
        SMTP_SINK_URL: sink.url,
      };
      const standIns: Record<string, string> = {
        DATABASE_PROFILE: "local",
        DATABASE_URL: db.url,
        SMTP_HOST: sink.host,
        SMTP_PORT: String(sink.smtpPort),
        SMTP_SECURE: "none",
        SMTP_FROM: "noreply@balansity.test",
        WORKER_HTTP_HOST: "127.0.0.1",
        WORKER_HTTP_PORT: String(httpPort),
        // No Supabase Storage here: the folder store inside the container, explicitly allowed.
        REPORT_STORAGE: "fs",
      };
      // The sink takes mail without authentication; the worker then sends none. The folder store
      // needs no Storage URL or key.
      const notLocal = new Set([
        "DATABASE_SSL_CA",
        "SMTP_USER",
        "SMTP_PASS",
        "SUPABASE_URL",
        "SUPABASE_SERVICE_ROLE_KEY",
      ]);
      const lines = assignedNames(dotenvBlocks[0]!.body)
        .filter((name) => !notLocal.has(name))
        .map((name) => {
          const value = standIns[name];
          if (value === undefined) throw new Error(`no local stand-in for ${name} of the guide's env file`);
          return `${name}=${value}`;
        });
      lines.push(
        "REPORT_FS_ALLOW_PRODUCTION=true",
        `REPORT_LINK_SECRET=${randomBytes(32).toString("base64url")}`,
        "REPORT_FS_DIR=/tmp/balansity-reports",
      );
      envFileContent = `${lines.join("\n")}\n`;
    }, 1_200_000);

    afterAll(async () => {
      await podman(["rm", "--force", "--time", "0", "balansity-worker"]).catch(() => undefined);
      for (const tag of [release, previousRelease]) {
        await podman(["rmi", `localhost/balansity-worker:${tag}`]).catch(() => undefined);
      }
      await sink?.stop();
      await db?.drop();
      await oldDb?.drop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it("gives every variable of the env block a stand-in, or a reason to leave it unset", () => {
      const names = assignedNames(envBlocks[0]!.body);
      expect(names.filter((name) => env[name] === undefined && UNSET_LOCALLY[name] === undefined)).toEqual(
        [],
      );
    });

    /** Runs the guide's block `name` and returns its output; a failure shows the block and the output. */
    async function runBlock(name: string, timeoutMs: number): Promise<string> {
      const block = blocks.find((each) => each.name === name)!;
      try {
        const { stdout, stderr } = await run(
          "bash",
          ["--norc", "--noprofile", "-euo", "pipefail", "-c", block.body],
          {
            cwd: repoRoot,
            env,
            timeoutMs,
          },
        );
        return `${stdout}${stderr}`;
      } catch (error) {
        const logs = await podman(["logs", "--tail", "40", "balansity-worker"]).then(
          ({ stdout, stderr }) => `${stdout}${stderr}`,
          () => "(no container)",
        );
        throw new Error(
          `the guide's block "${name}" (line ${block.line}) failed:\n${String(error)}\nworker container logs:\n${logs}`,
        );
      }
    }

    it("migrate: the dry run lists every migration file; the run applies them all", async () => {
      const files = (await readdir(repoPath("supabase", "migrations"))).filter((file) =>
        file.endsWith(".sql"),
      );
      const output = await runBlock("migrate", 180_000);
      for (const file of files) expect(output).toContain(file);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ applied: number }>(
          "select count(*)::int as applied from supabase_migrations.schema_migrations",
        );
        expect(rows[0]!.applied).toBe(files.length);
      } finally {
        await client.end();
      }
    }, 200_000);

    it("transfer: the old database's tables are copied into the new one and verified equal", async () => {
      const output = await runBlock("transfer", 180_000);
      expect(output).toMatch(/verified: \d+ tables? equal/);
    }, 200_000);

    it("transfer-done: the transfer's resume state is dropped from the target", async () => {
      await runBlock("transfer-done", 60_000);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query("select from pg_namespace where nspname = 'balansity_transfer'");
        expect(rows).toHaveLength(0);
      } finally {
        await client.end();
      }
    }, 70_000);

    it("doctor: every check passes on the migrated database", async () => {
      await runBlock("doctor", 120_000);
    }, 130_000);

    it("build: docker build tags the release", async () => {
      await runBlock("build", 900_000);
      const { stdout } = await podman([
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}",
        `balansity-worker:${release}`,
      ]);
      expect(stdout.trim()).toBe("node");
    }, 910_000);

    it("secrets: the env file is created empty and readable by its owner alone", async () => {
      await runBlock("secrets", 30_000);
      const file = await stat(env.WORKER_ENV_FILE!);
      expect(file.mode & 0o777).toBe(0o600);
      expect(file.size).toBe(0);
      expect((await stat(dirname(env.WORKER_ENV_FILE!))).mode & 0o777).toBe(0o700);
      // The reader's editor: the guide's variables with the stand-ins' values.
      await writeFile(env.WORKER_ENV_FILE!, envFileContent);
    }, 40_000);

    it("run: the container starts from the env file and keeps running", async () => {
      await runBlock("run", 120_000);
      const { stdout } = await podman(["inspect", "--format", "{{.State.Running}}", "balansity-worker"]);
      expect(stdout.trim()).toBe("true");
    }, 130_000);

    it("verify: ready, healthy, and the test email reaches the operator", async () => {
      await runBlock("verify", 180_000);
      const messages = await sink.waitForMessages(1, { to: operatorEmail, timeoutMs: 30_000 });
      expect(messages).toHaveLength(1);
      expect(messages[0]!.envelope.from).toBe("noreply@balansity.test");
    }, 220_000);

    it("queues: the operator CLI lists the queues and the email dead letters", async () => {
      const output = await runBlock("queues", 120_000);
      expect(output).toContain("email_queue");
    }, 130_000);

    it("smoke: the seeded user's checkup, booking and payment emails arrive through the running container", async () => {
      await runBlock("smoke", 300_000);
    }, 310_000);

    it("rollback: a container of the previous tag replaces the running one and becomes ready", async () => {
      // The release that ran before this one: here the same image under the previous tag.
      await podman(["tag", `balansity-worker:${release}`, `balansity-worker:${previousRelease}`]);
      const before = (await podman(["inspect", "--format", "{{.Id}}", "balansity-worker"])).stdout.trim();
      await runBlock("rollback", 240_000);
      const { stdout } = await podman([
        "inspect",
        "--format",
        "{{.Id}} {{.State.Running}} {{.ImageName}}",
        "balansity-worker",
      ]);
      const [id, running, image] = stdout.trim().split(" ");
      expect(id).not.toBe(before);
      expect(running).toBe("true");
      expect(image).toContain(`:${previousRelease}`);
    }, 260_000);
  },
);
