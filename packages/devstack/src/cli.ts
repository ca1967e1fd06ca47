import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { denoBinary, denoEnvironment, functionsDir } from "./deno.ts";
import { createDevLogger, resolveLogFormat } from "./dev-logger.ts";
import { type Devstack, devstackEnv, startDevstack } from "./devstack.ts";
import { repoRoot } from "./paths.ts";
import { writeDatabaseTypes } from "./write-database-types.ts";
import { writeSchemaFiles } from "./write-schema-files.ts";

const HELP = `devstack: the local Balansity stack

  devstack up              start PostgreSQL, pgmq, migrations, seed and the SMTP sink; Ctrl-C stops all
  devstack env             print the running stack's environment (KEY=value lines)
  devstack run -- CMD ...  wait for a running stack, then run CMD with its environment
  devstack types           regenerate packages/db/src/database.generated.ts from the migrations
  devstack schema          regenerate supabase/schema.sql and supabase/schema.json from the migrations
  devstack deno ARGS ...   run the npm-shipped Deno in supabase/functions (e.g. deno test --allow-net)

Environment: DEVSTACK_DIR (default <repo>/.devstack), DEVSTACK_POSTGRES=auto|system|embedded, PG_BIN`;

const dir = process.env.DEVSTACK_DIR ?? join(repoRoot, ".devstack");
const stateFile = join(dir, "state.json");
// Readable lines unless LOG_FORMAT=json (see dev-logger.ts).
const logger = createDevLogger({
  name: "devstack",
  format: resolveLogFormat(process.env, "pretty"),
  stream: process.stdout,
  env: process.env,
});
const log = (line: string, fields?: Readonly<Record<string, unknown>>) => logger.info(line, fields);

interface State {
  readonly pid: number;
  readonly env: Record<string, string>;
}

async function up(): Promise<void> {
  const stack = await startDevstack({ dir, env: process.env, log });
  const env = devstackEnv(stack);
  writeFileSync(stateFile, JSON.stringify({ pid: process.pid, env } satisfies State, null, 2));
  printSummary(stack, env);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    rmSync(stateFile, { force: true });
    await stack.stop();
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

function printSummary(stack: Devstack, env: Record<string, string>): void {
  log(
    `migrations applied now: ${stack.migrationsApplied.length ? stack.migrationsApplied.join(", ") : "none (up to date)"}`,
  );
  log(`seed: ${stack.seeded ? "loaded supabase/seed.sql into the new cluster" : "kept existing data"}`);
  log(`database   ${stack.databaseUrl}   (psql "${stack.databaseUrl}")`);
  log(`smtp       ${stack.smtp.host}:${stack.smtp.smtpPort}   mail viewer ${stack.smtp.url}/`);
  log(
    `api        ${stack.api.url}   (PostgREST RPCs + GoTrue's /user for supabase-js; anon key: devstack env)`,
  );
  log(`functions  ${stack.functions.url}/yookassa-webhook, /create-payment   (Deno)`);
  log(`yookassa   ${stack.yookassa.apiUrl}   (stand-in; notifies the webhook)`);
  log(
    stack.consoleSignIn
      ? `console    sign in as ${stack.consoleSignIn.operator.email} (valid 12 h): ${stack.consoleSignIn.link}`
      : "console    no operator in auth.users (raw_app_meta_data role 'operator'): no sign-in link",
  );
  log(`env file   ${stateFile}   (devstack env / devstack run -- CMD)`);
  log(`ready: ${Object.keys(env).length} variables exported to workers; Ctrl-C stops everything`);
}

function readState(): State | undefined {
  if (!existsSync(stateFile)) return undefined;
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as State;
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

async function waitForState(timeoutMs: number): Promise<State> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = readState();
    if (state) return state;
    if (Date.now() > deadline) {
      throw new Error(
        `no running devstack after ${timeoutMs / 1000} s: start it with "pnpm dev" or "pnpm --filter @balansity/devstack dev"`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function runWithEnv(command: string[]): Promise<void> {
  const [file, ...args] = command;
  if (!file) throw new Error("devstack run: give a command after --");
  const state = await waitForState(120_000);
  const child = spawn(file, args, { stdio: "inherit", env: { ...process.env, ...state.env } });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function runDeno(args: string[]): void {
  const child = spawn(denoBinary(), args, { stdio: "inherit", cwd: functionsDir, env: denoEnvironment() });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main(): Promise<void> {
  // Deno's own flags (--allow-net) pass through untouched.
  if (process.argv[2] === "deno") return runDeno(process.argv.slice(3));
  const { positionals } = parseArgs({ allowPositionals: true, strict: false });
  const [command, ...rest] = positionals;
  switch (command) {
    case "up":
      return up();
    case "env": {
      const state = readState();
      if (!state) throw new Error('no running devstack: start it with "pnpm dev"');
      for (const [key, value] of Object.entries(state.env)) console.log(`${key}=${value}`);
      return;
    }
    case "run":
      return runWithEnv(rest);
    case "types":
      return writeDatabaseTypes(log);
    case "schema":
      return writeSchemaFiles(log);
    default:
      console.log(HELP);
      if (command && command !== "help") process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  createDevLogger({
    name: "devstack",
    format: resolveLogFormat(process.env, "pretty"),
    stream: process.stderr,
  }).error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
