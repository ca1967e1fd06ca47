/**
 * The worker image, built from apps/worker/Dockerfile and run for real without a Docker engine:
 * buildah builds it (chroot isolation), podman runs it (runc, host network) against a real database and
 * a real SMTP sink, and stops it the way an orchestrator does. Where registries other than npm and
 * Debian's cannot be reached, the Dockerfile's base image is made locally first
 * (support/local-base-image.ts) under the name its FROM uses; the Dockerfile itself is built unchanged.
 *
 * Needs root, buildah, podman, runc, mmdebstrap and npm; skipped with the reason where they are missing.
 * The first run on a machine makes the base image and downloads the workspace's dependencies (a few
 * minutes); later runs reuse both (tens of seconds).
 */
import { randomBytes } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildImage,
  containerToolsMissing,
  podman,
  RUN_FLAGS,
  runLimits,
  withImageLock,
} from "./support/container-engine.ts";
import { execForm, instructionsOf, readDockerfile, stage } from "./support/deploy-dockerfile.ts";
import { repoRoot, STOP_MARGIN_MS, workerDefaults, workerPath } from "./support/deploy-files.ts";
import { freePort, waitFor } from "./support/deploy-process.ts";
import { ensureBaseImage, recipeNodeMajor } from "./support/local-base-image.ts";

const missing = containerToolsMissing();
if (missing) console.warn(`[container-image] skipped: ${missing}`);

const dockerfile = readDockerfile(workerPath("Dockerfile"));
const runtime = stage(dockerfile, "runtime");
const shutdownTimeoutMs = workerDefaults().shutdownTimeoutMs;
const tag = "localhost/balansity-worker:test";

/** The parts of `podman image inspect` checked here. */
interface ImageInspect {
  Config: { User: string; Cmd: string[]; StopSignal?: string; Env: string[] };
  Healthcheck?: { Test: string[] };
}

describe("the worker's Dockerfile", () => {
  it("builds every stage from the one base image whose Node major the local stand-in provides", () => {
    const images = new Set(dockerfile.stages.map((each) => each.image));
    expect([...images]).toEqual([runtime.image]);
    expect(runtime.image).toMatch(new RegExp(`^node:${recipeNodeMajor()}-bookworm-slim$`));
  });
});

describe.skipIf(missing !== undefined)(
  missing
    ? `the worker image (skipped: ${missing})`
    : "the worker image, built with buildah and run with podman",
  () => {
    let db: TestDatabase;
    let sink: SmtpSink;
    let container: string | undefined;
    let baseUrl: string;

    const logs = async () => {
      if (!container) return "";
      const { stdout, stderr } = await podman(["logs", container]).catch((error) => ({
        stdout: "",
        stderr: String(error),
      }));
      return `${stdout}${stderr}`;
    };

    beforeAll(async () => {
      const { base, build } = await withImageLock(async () => ({
        base: await ensureBaseImage(runtime.image),
        build: await buildImage({
          dockerfile: workerPath("Dockerfile"),
          context: repoRoot,
          tag,
          timeoutMs: 900_000,
        }),
      }));
      console.info(
        `[container-image] base image ${base.name}: ${base.source} in ${base.seconds.toFixed(1)} s; ` +
          `worker image: ${build.seconds.toFixed(1)} s (${build.cachedSteps} cached steps)`,
      );
      [db, sink] = await Promise.all([createTestDatabase("migrated"), startSmtpSink()]);
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      container = `balansity-worker-test-${randomBytes(4).toString("hex")}`;
      const env = {
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
      await podman([
        "run",
        "--detach",
        "--name",
        container,
        // The database and the SMTP sink listen on this host's loopback.
        "--network",
        "host",
        ...runLimits(),
        ...RUN_FLAGS,
        ...Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
        tag,
      ]);
    }, 1_200_000);

    afterAll(async () => {
      if (container) await podman(["rm", "--force", "--time", "0", container]).catch(() => undefined);
      await sink?.stop();
      await db?.drop();
    });

    it("runs the Dockerfile's command as the unprivileged node user, with its health check and stop signal", async () => {
      const { stdout } = await podman(["image", "inspect", tag]);
      const [image] = JSON.parse(stdout) as ImageInspect[];
      expect(image!.Config.User).toBe("node");
      expect(image!.Config.Cmd).toEqual(execForm(instructionsOf(runtime, "CMD")[0]!.args));
      expect(image!.Config.StopSignal).toBe("SIGTERM");
      expect(image!.Config.Env).toContain("NODE_ENV=production");
      expect(image!.Healthcheck?.Test).toEqual(["CMD", "node", "deploy/healthcheck.mjs", "/healthz"]);
    });

    it("holds the bundle (with the files it reads) and the health probe in /app, and no node_modules", async () => {
      const { stdout } = await podman([
        "run",
        "--rm",
        "--network",
        "none",
        ...runLimits(),
        "--entrypoint",
        "sh",
        tag,
        "-c",
        "node --version; find /app | sort",
      ]);
      const [version, ...paths] = stdout.trim().split("\n");
      expect(version).toMatch(new RegExp(`^v${recipeNodeMajor()}\\.`));
      expect(paths).toEqual(
        expect.arrayContaining([
          "/app/deploy/healthcheck.mjs",
          "/app/dist/main.mjs",
          "/app/dist/main.mjs.map",
        ]),
      );
      // The runtime stage copies dist/ and the probe: nothing else, no sources, no dependencies.
      expect(
        paths.filter((path) => !/^\/app(\/dist(\/.*)?|\/deploy(\/healthcheck\.mjs)?)?$/.test(path)),
      ).toEqual([]);
      expect(paths.filter((path) => /node_modules|\.tsx?$|package\.json$/.test(path))).toEqual([]);
    });

    it("answers /healthz healthy, and the image's own health check passes", async () => {
      const body = await waitFor(
        "GET /healthz = 200",
        async () => {
          const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
          return response.status === 200 ? await response.json() : undefined;
        },
        { timeoutMs: 60_000 },
      ).catch(async (error) => {
        throw new Error(`${String(error)}\ncontainer logs:\n${await logs()}`);
      });
      expect(body).toMatchObject({ status: "ok" });
      const check = await podman(["healthcheck", "run", container!]).then(
        () => 0,
        () => 1,
      );
      expect(check).toBe(0);
    }, 90_000);

    it("renders and sends a queued email to the SMTP sink", async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query("select public.queue_email_task($1, null, 'report_ready', $2::jsonb)", [
          "olga@example.com",
          JSON.stringify({
            assessment_id: "5f0c3a2e-8b1d-4c6e-9f7a-2d4b6c8e0a13",
            report_url: "https://app.balansity.ru/reports/5f0c3a2e.pdf",
          }),
        ]);
      } finally {
        await client.end();
      }
      const messages = await sink
        .waitForMessages(1, { to: "olga@example.com", timeoutMs: 30_000 })
        .catch(async (error) => {
          throw new Error(`${String(error)}\ncontainer logs:\n${await logs()}`);
        });
      expect(messages).toHaveLength(1);
      expect(messages[0]!.envelope.from).toBe("noreply@balansity.test");
      expect(messages[0]!.html).toContain("https://app.balansity.ru/reports/5f0c3a2e.pdf");
    }, 60_000);

    it("stops on SIGTERM with exit code 0 before the stop timeout would kill it", async () => {
      // podman stop sends the image's STOPSIGNAL, then SIGKILL (exit 137) after --time seconds.
      const stopSeconds = Math.ceil((shutdownTimeoutMs + STOP_MARGIN_MS) / 1000);
      await podman(["stop", "--time", String(stopSeconds), container!], (stopSeconds + 30) * 1000);
      const { stdout } = await podman(["inspect", "--format", "{{.State.ExitCode}}", container!]);
      const output = await logs();
      expect(Number(stdout.trim()), output).toBe(0);
      const messages = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => (JSON.parse(line) as { msg?: string }).msg);
      expect(messages).toContain("worker stopped");
    }, 120_000);
  },
);
