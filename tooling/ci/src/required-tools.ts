/**
 * Every command the test suite needs, with the Debian package that provides it and the tests that
 * would skip (or fail) without it. `.ci/run` installs the packages, then checks the commands: a tool
 * that did not install fails CI here, naming it, before any test can skip for want of it.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface RequiredTool {
  readonly command: string;
  readonly debianPackage: string;
  readonly usedBy: string;
}

export const REQUIRED_TOOLS: readonly RequiredTool[] = [
  { command: "psql", debianPackage: "postgresql-15", usedBy: "the system PostgreSQL 15 (pass 1)" },
  { command: "pg_config", debianPackage: "postgresql-15", usedBy: "pg_cron and pgTAP lookups" },
  { command: "pgbouncer", debianPackage: "pgbouncer", usedBy: "the pooler tests (db, worker)" },
  { command: "openssl", debianPackage: "openssl", usedBy: "the TLS tests' throwaway CA" },
  { command: "pdftotext", debianPackage: "poppler-utils", usedBy: "the report PDF tests" },
  { command: "pdftoppm", debianPackage: "poppler-utils", usedBy: "the report PDF tests" },
  { command: "chromium", debianPackage: "chromium", usedBy: "the console's browser tests" },
  { command: "npm", debianPackage: "npm", usedBy: "the worker image build (container tests)" },
  { command: "buildah", debianPackage: "buildah", usedBy: "the worker image build (container tests)" },
  { command: "podman", debianPackage: "podman", usedBy: "the worker image run (container tests)" },
  { command: "mmdebstrap", debianPackage: "mmdebstrap", usedBy: "the local base image (container tests)" },
  { command: "runc", debianPackage: "runc", usedBy: "the worker image run (container tests)" },
  {
    command: "systemd-analyze",
    debianPackage: "systemd",
    usedBy: "the systemd unit check (deploy descriptors)",
  },
];

/** The tools not found as executables on `path` (a PATH string). */
export function missingTools(path: string, tools: readonly RequiredTool[] = REQUIRED_TOOLS): RequiredTool[] {
  const dirs = path.split(delimiter).filter((dir) => dir !== "");
  return tools.filter(
    (tool) =>
      !dirs.some((dir) => {
        try {
          accessSync(join(dir, tool.command), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

/** The Debian packages `.ci/run` installs, once each, in list order. */
export function debianPackages(tools: readonly RequiredTool[] = REQUIRED_TOOLS): string[] {
  return [...new Set(tools.map((tool) => tool.debianPackage))];
}
