#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package needs no build step. SIGINT and SIGTERM are
// passed on to the CLI (which stops everything it started) and its exit code becomes ours; this
// process never dies first and leaves the stack running without its parent.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const tsx = require.resolve("tsx");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const child = spawn(process.execPath, ["--import", tsx, cli, ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  // A Ctrl-C reaches the whole process group, the CLI included; passing it on again is harmless.
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
