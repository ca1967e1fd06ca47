import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `balansity …args` in a child process, with only PATH and `env` in its environment and standard
 * input closed (not a terminal). `viaBin` goes through bin/balansity.mjs as an installed command
 * does (one more Node start-up); otherwise `node --import tsx src/cli.ts`.
 */
export function runBalansity(
  args: readonly string[],
  env: Record<string, string>,
  options: { readonly viaBin?: boolean } = {},
): Promise<CliRun> {
  const entry = options.viaBin ? ["bin/balansity.mjs"] : ["--import", "tsx", "src/cli.ts"];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The --json document a run printed. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}
