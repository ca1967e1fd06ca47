import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { missingTools, REQUIRED_TOOLS } from "../src/required-tools.ts";

const cli = resolve(import.meta.dirname, "../src/check-tools-cli.ts");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A PATH folder holding an executable stand-in for every required tool except `without`. */
function fakePath(without: readonly string[]): string {
  dir = mkdtempSync(join(tmpdir(), "balansity-tools-"));
  for (const tool of REQUIRED_TOOLS) {
    if (without.includes(tool.command)) continue;
    writeFileSync(join(dir, tool.command), "#!/bin/sh\n");
    chmodSync(join(dir, tool.command), 0o755);
  }
  return dir;
}

it("finds nothing missing when every tool is on PATH", () => {
  expect(missingTools(fakePath([]))).toEqual([]);
});

it("names a removed tool, and a file that is not executable does not count", () => {
  const path = fakePath(["pgbouncer"]);
  writeFileSync(join(path, "pgbouncer"), "not executable");
  expect(missingTools(path).map((tool) => tool.command)).toEqual(["pgbouncer"]);
});

it("check-tools exits 1 naming the removed tool and its package, 0 with all", () => {
  const removed = spawnSync(process.execPath, ["--import", "tsx", cli], {
    encoding: "utf8",
    env: { ...process.env, PATH: fakePath(["systemd-analyze", "npm"]) },
  });
  expect(removed.status).toBe(1);
  expect(removed.stderr).toContain("missing systemd-analyze (Debian package systemd)");
  expect(removed.stderr).toContain("missing npm (Debian package npm)");
  const complete = spawnSync(process.execPath, ["--import", "tsx", cli], {
    encoding: "utf8",
    env: { ...process.env, PATH: fakePath([]) },
  });
  expect(complete.status, complete.stderr).toBe(0);
});
