/**
 * docs/adopt-existing-database.md, run: every ```sh test=<name> block, in order, each in its own bash
 * (`set -euo pipefail`) from the repository root, against a local database in the seed-era state (the
 * app's tables with rows, the seed-era 030–033 applied by hand, a backlog; without pg_cron: the cron
 * database is apps/worker/test/adopt-seed-state-end-to-end.test.ts's). The guide's ```sh env block
 * says which variables the reader sets; the test gives each a local stand-in and fails when a block
 * uses a variable the env block does not set.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSeedState } from "@balansity/devstack/seed-state";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { repoPath, repoRoot } from "./support/deploy-files.ts";
import { minimalEnv, run } from "./support/deploy-process.ts";
import { assignedNames, fencedBlocks, referencedNames, testedShellBlocks } from "./support/guide-blocks.ts";

vi.setConfig({ testTimeout: 240_000 });

const guide = await readFile(repoPath("docs", "adopt-existing-database.md"), "utf8");
const blocks = testedShellBlocks(guide);
const envBlocks = fencedBlocks(guide).filter((block) => block.info === "sh env");
const SHELL_NAMES = new Set(["HOME", "PATH", "PWD"]);

let db: TestDatabase;
let client: pg.Client;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase("platform");
  await buildSeedState(db.url, { pgCron: false });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  work = await mkdtemp(join(tmpdir(), "balansity-adopt-guide-"));
  env = {
    ...minimalEnv(),
    DATABASE_PROFILE: "local",
    DATABASE_URL: db.url,
    BACKUP_DIR: join(work, "backups"),
  };
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function runBlock(name: string): Promise<string> {
  const block = blocks.find((each) => each.name === name);
  if (block === undefined) throw new Error(`the guide has no block test=${name}`);
  try {
    const { stdout, stderr } = await run(
      "bash",
      ["--norc", "--noprofile", "-euo", "pipefail", "-c", block.body],
      {
        cwd: repoRoot,
        env,
        timeoutMs: 200_000,
      },
    );
    return `${stdout}${stderr}`;
  } catch (error) {
    throw new Error(`the guide's block "${name}" (line ${block.line}) failed:\n${String(error)}`);
  }
}

async function count(sql: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select (${sql})::int as n`);
  return rows[0]?.n ?? -1;
}

describe("docs/adopt-existing-database.md", () => {
  it("has one env block, its tested blocks in order, and sets every variable they use", () => {
    expect(envBlocks).toHaveLength(1);
    expect(blocks.map((block) => block.name)).toEqual([
      "dry-run",
      "adopt",
      "verify",
      "validate",
      "doctor",
      "backlog",
      "rollback",
    ]);
    const set = new Set(assignedNames(envBlocks[0]?.body ?? ""));
    const used = blocks.flatMap((block) => referencedNames(block.body));
    expect([...new Set(used)].filter((name) => !set.has(name) && !SHELL_NAMES.has(name))).toEqual([]);
    expect([...set].filter((name) => env[name] === undefined)).toEqual([]);
    expect(envBlocks[0]?.body).not.toMatch(/:\/\/[^<\s]*:[^<@\s]+@/);
  });

  it("dry-run: prints the plan and writes nothing", async () => {
    const output = await runBlock("dry-run");
    expect(output).toContain("keep     table public.profiles");
    expect(output).toContain("replace  function public.update_appointment_statuses()");
    expect(await count("select count(*) from supabase_migrations.schema_migrations")).toBe(0);
  });

  it("adopt: backs up what it replaces, then applies and records every migration", async () => {
    const output = await runBlock("adopt");
    expect(output).toMatch(/backup: .*replaced-objects\.sql/);
    expect(output).toContain("adopted:");
    expect(await count("select count(*) from supabase_migrations.schema_migrations")).toBeGreaterThan(10);
  });

  it("verify: a second adopt and db:migrate have nothing to do", async () => {
    const output = await runBlock("verify");
    expect(output).toContain("nothing to do");
    expect(output).toContain("nothing to apply");
  });

  it("validate: once the reported rows are fixed, every constraint adopt left not valid is validated", async () => {
    // The operator's fix of the rows the plan named (the app's data: theirs to decide).
    await client.query("update public.profiles set locale = 'en' where locale not in ('ru', 'en')");
    await client.query("update public.assessments set status = 'in_progress' where status = 'draft'");
    await runBlock("validate");
    expect(
      await count(
        "select count(*) from pg_constraint where not convalidated and conrelid in ('public.profiles'::regclass, 'public.assessments'::regclass)",
      ),
    ).toBe(0);
  });

  it("doctor: passes with the app's and the team's objects present", async () => {
    await runBlock("doctor");
  });

  it("backlog: shows the queues' lengths", async () => {
    const output = await runBlock("backlog");
    expect(output).toMatch(/email_queue\s*\|\s*6\s*\|/);
  });

  it("rollback: puts the seed-era functions and triggers back from the backup", async () => {
    await runBlock("rollback");
    // The seed-era no-argument function again, alone under its name, and their trigger firing theirs.
    expect(
      await count(
        "select count(*) from pg_proc where proname = 'update_appointment_statuses' and pronamespace = 'public'::regnamespace and pronargs = 0",
      ),
    ).toBe(1);
    expect(
      await count(
        "select count(*) from pg_proc where proname = 'update_appointment_statuses' and pronamespace = 'public'::regnamespace",
      ),
    ).toBe(1);
    expect(await count("select count(*) from pg_trigger where tgname = 'on_checkup_completed'")).toBe(1);
    expect(await count("select count(*) from public.profiles")).toBe(3);
  });
});
