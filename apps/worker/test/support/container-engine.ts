/**
 * Builds and runs images without a Docker engine: buildah builds a Dockerfile (chroot isolation, no
 * daemon, no user namespaces), podman runs the result with runc, the cgroupfs manager, host networking
 * and explicit resource limits. The flags are those that work on a plain root shell of a Debian VM or
 * CI runner with no systemd: podman's default limits (raised above the caller's) are refused there
 * without CAP_SYS_RESOURCE, and crun refuses a cgroup v1/v2 hybrid.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./deploy-process.ts";

/** Why images cannot be built and run here, or `undefined` when they can. */
export function containerToolsMissing(): string | undefined {
  if (process.platform !== "linux") return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "needs root (buildah's chroot isolation and mmdebstrap)";
  const missing = ["buildah", "podman", "mmdebstrap", "npm", "runc"].filter((tool) => !onPath(tool));
  if (missing.length > 0)
    return `needs ${missing.join(", ")} on PATH (Debian: apt-get install ${missing.join(" ")})`;
  return undefined;
}

function onPath(tool: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The global podman flags every call uses (a run and the later stop must agree on them). */
const PODMAN = ["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"];

/** `buildah build` flags: chroot isolation, Docker format (OCI has no HEALTHCHECK), cached layers, local bases. */
const BUILD_FLAGS = ["--isolation", "chroot", "--format", "docker", "--layers", "--pull=never"];

/** `podman run` flags: the image's HEALTHCHECK stays (`podman healthcheck run`), its timer needs systemd. */
export const RUN_FLAGS = ["--health-interval", "disable"];

/** A command on podman with the flags above; rejects with its output when it fails. */
export function podman(args: readonly string[], timeoutMs = 60_000) {
  return run("podman", [...PODMAN, ...args], { cwd: tmpdir(), timeoutMs });
}

/**
 * `soft:hard` for `--ulimit` from this process's own limits, capped at `cap`: a container may not be
 * given more than its caller has.
 */
function ulimit(name: string, cap: number): string {
  const limits = existsSync("/proc/self/limits") ? readFileSync("/proc/self/limits", "utf8") : "";
  const match = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, "m").exec(limits);
  const value = (text: string | undefined) =>
    text && /^\d+$/.test(text) ? Math.min(Number(text), cap) : cap;
  const soft = value(match?.[1]);
  const hard = value(match?.[2]);
  return `${Math.min(soft, hard)}:${hard}`;
}

/** `--ulimit` flags for `podman run`: open files and processes, within this process's limits. */
export function runLimits(): string[] {
  return [
    "--ulimit",
    `nofile=${ulimit("Max open files", 65_536)}`,
    "--ulimit",
    `nproc=${ulimit("Max processes", 4096)}`,
  ];
}

export interface BuildResult {
  readonly seconds: number;
  /** Steps whose cached layer was reused. */
  readonly cachedSteps: number;
  readonly output: string;
}

/**
 * `buildah build` of `dockerfile` with `context` as its context into `tag`: chroot isolation, Docker
 * image format (OCI has no HEALTHCHECK), layers cached between builds, base images from local storage
 * only.
 */
export async function buildImage(options: {
  dockerfile: string;
  context: string;
  tag: string;
  timeoutMs: number;
}): Promise<BuildResult> {
  const started = performance.now();
  const { stdout, stderr } = await run(
    "buildah",
    ["build", ...BUILD_FLAGS, "--file", options.dockerfile, "--tag", options.tag, options.context],
    { cwd: options.context, timeoutMs: options.timeoutMs },
  );
  const output = `${stdout}\n${stderr}`;
  return {
    seconds: (performance.now() - started) / 1000,
    cachedSteps: output.split("\n").filter((line) => line.startsWith("--> Using cache")).length,
    output,
  };
}

/**
 * Runs `work` while holding a lock shared by every process on this machine (a file holding the
 * holder's pid; a dead holder's lock is taken over), so test files that build images take turns
 * instead of doing the same minutes of work at once on a small machine.
 */
export async function withImageLock<T>(work: () => Promise<T>, timeoutMs = 1_200_000): Promise<T> {
  const lock = join(tmpdir(), "balansity-image-work.lock");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(await readFile(lock, "utf8").catch(() => ""));
      if (!isAlive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`${lock}: still held by pid ${holder} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes a `docker` command into `dir` that runs Docker CLI commands with buildah (`build`) and podman
 * (everything else) with the flags above, for running a guide's `docker …` lines unchanged.
 */
export async function writeDockerShim(dir: string): Promise<void> {
  const quote = (args: string[]) => args.map((arg) => `'${arg}'`).join(" ");
  const script = [
    "#!/bin/sh",
    'command="$1"; shift',
    'case "$command" in',
    `  build) exec buildah build ${quote(BUILD_FLAGS)} "$@" ;;`,
    `  run) exec podman ${quote(PODMAN)} run ${quote([...runLimits(), ...RUN_FLAGS])} "$@" ;;`,
    `  *) exec podman ${quote(PODMAN)} "$command" "$@" ;;`,
    "esac",
    "",
  ].join("\n");
  await writeFile(join(dir, "docker"), script, { mode: 0o755 });
}
