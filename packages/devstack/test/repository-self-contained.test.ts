// The repository is self-contained: no file points a reader at documents it does not hold (a design
// folder next to the checkout, the seed documents the project was started from). The design as built
// is docs/architecture.md.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths.ts";

const OUTSIDE_REFERENCES = [
  /\.\.\/shared\b/,
  /\/work\/shared\b/,
  /\bseeds?\/\d/i,
  /\bseed documents?\b/i,
  /\bseeds\b/i,
];

// 030 is an applied migration (immutable): its comment sits in a function body databases already run.
// This file names the patterns it looks for.
const EXEMPT = new Set([
  "supabase/migrations/030_setup_cron_jobs.sql",
  // Generated from the migrations: they hold 030's function bodies as the database has them.
  "supabase/schema.sql",
  "supabase/schema.json",
  "packages/devstack/test/repository-self-contained.test.ts",
]);

function trackedTextFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "-z"], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return listed
    .split("\0")
    .filter((file) => file !== "" && !EXEMPT.has(file) && file !== "pnpm-lock.yaml")
    .filter((file) => /\.(ts|tsx|mts|mjs|js|sql|md|json|yaml|yml|toml)$|^\.ci\/|Dockerfile/.test(file));
}

describe("the repository", () => {
  it("cites no document outside it (design folders, seed documents)", () => {
    const found: string[] = [];
    for (const file of trackedTextFiles()) {
      let text: string;
      try {
        text = readFileSync(join(repoRoot, file), "utf8");
      } catch {
        continue; // deleted in the working tree, not yet in a commit
      }
      text.split("\n").forEach((line, index) => {
        if (OUTSIDE_REFERENCES.some((pattern) => pattern.test(line)))
          found.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
