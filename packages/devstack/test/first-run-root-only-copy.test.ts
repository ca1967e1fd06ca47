// A newcomer's first run, as root, in a fresh copy of the repository inside a folder only root can
// enter (a clone under /root or `mktemp -d`): `pnpm install`, then `pnpm exec devstack up` from the
// copy's root. PostgreSQL runs as the `postgres` OS user, which cannot enter the copy.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths.ts";

const asRoot = process.getuid?.() === 0;
const NOT_ROOT = "needs root: only root runs the server as the postgres OS user";

// mkdtemp makes the folder with mode 700: only root may enter it.
const checkout = mkdtempSync(join(tmpdir(), "balansity-first-run-"));
const relocated = new Set<string>();

afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  for (const folder of relocated) rmSync(folder, { recursive: true, force: true });
});

/** The repository's files as a fresh checkout has them: tracked and new ones, nothing git ignores. */
function copyRepository(to: string): void {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of listed.split("\0")) {
    const from = join(repoRoot, file);
    // a file deleted in the working tree but still in the index is not part of a fresh checkout
    if (file === "" || !existsSync(from) || lstatSync(from).isDirectory()) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(from, join(to, file), { verbatimSymlinks: true });
  }
}

describe("a first run as root in a fresh copy the postgres user cannot enter", () => {
  it("installs, then `pnpm exec devstack up` from the copy's root serves a seeded database and says where its data is", async (context) => {
    if (!asRoot) context.skip(NOT_ROOT);
    const copy = join(checkout, "balansity");
    copyRepository(copy);
    // --offline: the packages come from the store the surrounding install filled (no network in tests)
    execFileSync("pnpm", ["install", "--offline", "--reporter=silent"], {
      cwd: copy,
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 240_000,
    });

    // its own process group, so SIGINT reaches everything as a Ctrl-C in a terminal does
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DEVSTACK_DIR;
    const child = spawn("pnpm", ["exec", "devstack", "up"], {
      cwd: copy,
      env,
      detached: true,
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
    let url = "";
    const forget = () => {
      // the embedded PostgreSQL, when it ran, was copied out of the checkout: that copy goes too
      const binDir = /\(embedded: (\S+)\)/.exec(output)?.[1];
      if (binDir) {
        const hash = createHash("sha256").update(dirname(binDir)).digest("hex").slice(0, 16);
        relocated.add(`/var/tmp/balansity-devstack-pg-${hash}`);
      }
    };
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes("[devstack] ready:")) {
        if (child.exitCode !== null) throw new Error(`devstack up exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`devstack up not ready in 120 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const data = /, data (\/var\/tmp\/balansity-devstack-[0-9a-f]{16}\/postgres),/.exec(output)?.[1];
      expect(data, output).toBeDefined();
      relocated.add(dirname(data ?? "/nonexistent/x"));
      expect(readlinkSync(join(copy, ".devstack", "postgres"))).toBe(data);
      url = /database\s+(postgres:\/\/\S+)/.exec(output)?.[1] ?? "";
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ queues: number; users: number }>(
          `select (select count(*)::int from pgmq.meta where queue_name = 'email_queue') as queues,
                  (select count(*)::int from auth.users) as users`,
        );
        expect(rows[0]?.queues).toBe(1);
        expect(rows[0]?.users).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    } finally {
      forget();
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGINT");
    }
    await exited;
    // pnpm itself dies of the SIGINT, as in a terminal; the stack stops on its own and says so
    const deadline = Date.now() + 30_000;
    while (!output.includes("[devstack] stopped")) {
      if (Date.now() > deadline) throw new Error(`devstack did not stop in 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    await expect(after.connect()).rejects.toThrow();
  }, 300_000);
});
