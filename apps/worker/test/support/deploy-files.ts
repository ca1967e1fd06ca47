/** Where the deployment files are, and the worker defaults they must agree with. */
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/load-config.ts";

export const workerDir = fileURLToPath(new URL("../..", import.meta.url));
export const repoRoot = resolve(workerDir, "../..");
/** `apps/worker`: the worker's folder in the repository, and in the image's build stage. */
export const workerFolder = relative(repoRoot, workerDir);
/** Where `pnpm build` (scripts/build.mjs) writes the bundle, relative to the worker's folder. */
export const BUNDLE_DIR = "dist";

export const workerPath = (...parts: string[]): string => join(workerDir, ...parts);
export const repoPath = (...parts: string[]): string => join(repoRoot, ...parts);

export const readWorkerFile = (...parts: string[]): string => readFileSync(workerPath(...parts), "utf8");

/** The least environment loadConfig accepts: every other setting at its default. */
export const minimalWorkerEnv = Object.freeze({
  DATABASE_URL: "postgresql://worker@localhost:5432/balansity",
  SMTP_HOST: "localhost",
  SMTP_FROM: "noreply@balansity.ru",
});

/** The worker's configuration with nothing but the required variables set. */
export const workerDefaults = () => loadConfig(minimalWorkerEnv);

/** A supervisor must wait at least this much longer than the worker's shutdown deadline. */
export const STOP_MARGIN_MS = 10_000;

/** The worker's package.json. */
export const workerPackage = (): {
  name: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} => JSON.parse(readWorkerFile("package.json"));
