/**
 * `pnpm --filter @balansity/ci run check-tools`: exits 1 naming every tool the tests need that is
 * not on PATH (with the Debian package to install), 0 when all are there.
 */
import { missingTools } from "./required-tools.ts";

const missing = missingTools(process.env.PATH ?? "");
if (missing.length > 0) {
  for (const tool of missing) {
    console.error(
      `[ci] missing ${tool.command} (Debian package ${tool.debianPackage}), needed by ${tool.usedBy}`,
    );
  }
  console.error(
    `[ci] ${missing.length} tool(s) missing: the tests that need them would skip, so CI fails here`,
  );
  process.exit(1);
}
console.log("[ci] every tool the tests use is installed");
