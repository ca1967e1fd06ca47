/**
 * Builds and runs images without a Docker engine: buildah builds a Dockerfile (chroot isolation, no
 * daemon, no user namespaces), podman runs the result with runc, the cgroupfs manager, host networking
 * and explicit resource limits. The flags are those that work on a plain root shell of a Debian VM or
 * CI runner with no systemd: podman's default limits (raised above the caller's) are refused there
 * without CAP_SYS_RESOURCE, and crun refuses a cgroup v1/v2 hybrid.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
    [
      "build",
      "--isolation",
      "chroot",
      "--format",
      "docker",
      "--layers",
      "--pull=never",
      "--file",
      options.dockerfile,
      "--tag",
      options.tag,
      options.context,
    ],
    { cwd: options.context, timeoutMs: options.timeoutMs },
  );
  const output = `${stdout}\n${stderr}`;
  return {
    seconds: (performance.now() - started) / 1000,
    cachedSteps: output.split("\n").filter((line) => line.startsWith("--> Using cache")).length,
    output,
  };
}
