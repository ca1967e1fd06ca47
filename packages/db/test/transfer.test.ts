/**
 * `db transfer` between two real local databases: the seed-shaped `ai` schema (composite keys,
 * jsonb, timestamps, nulls, large and awkward text, bytea) into `public`, then this project's own
 * tables. Interrupted runs are killed for real (SIGKILL) while a batch is in flight.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applySeed } from "../../devstack/src/prepare-database.ts";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { withClient } from "../../devstack/src/with-client.ts";
import { loadDatabaseConfig, runTransfer, type TransferOptions } from "../src/index.ts";
import { runCli, startCli } from "./support/db-cli-process.ts";

const INSTANCES = 40;
const MESSAGES_PER_INSTANCE = 50; // 2000 messages
const MESSAGES = INSTANCES * MESSAGES_PER_INSTANCE;

const TABLES = (schema: string, references = schema) => `
  create schema if not exists ${schema};
  create table ${schema}.message_instances (
    id uuid primary key,
    name text not null,
    settings jsonb,
    created_at timestamptz not null,
    archived_at timestamptz
  );
  create table ${schema}.messages (
    instance_id uuid not null references ${references}.message_instances (id),
    message_id bigint not null,
    body text,
    payload jsonb not null default '{}',
    sent_at timestamp,
    attachment bytea,
    primary key (instance_id, message_id)
  );`;

// Deterministic rows for instances first..last: uuids from md5, every awkward value COPY must carry
// (tab, newline, backslash, quotes, unicode, null), one body of 1.1 MB.
const rows = (schema: string, first: number, last: number) => `
  insert into ${schema}.message_instances (id, name, settings, created_at, archived_at)
  select md5('instance' || i)::uuid, 'instance ' || i,
         case when i % 5 = 0 then null else jsonb_build_object('i', i, 'nested', jsonb_build_object('ru', 'привет', 'list', jsonb_build_array(1, 2.5, null))) end,
         timestamptz '2024-01-01 00:00:00.123456+03' + i * interval '1 hour',
         case when i % 3 = 0 then timestamptz '2025-02-03 04:05:06+00' end
    from generate_series(${first}, ${last}) as i;
  insert into ${schema}.messages (instance_id, message_id, body, payload, sent_at, attachment)
  select md5('instance' || i)::uuid, m,
         case when m % 7 = 0 then null else E'line one\\nline\\ttwo \\\\ back ''quoted'' "double" ✓ ' || m end,
         jsonb_build_object('m', m, 'text', E'tab\\there'),
         case when m % 4 = 0 then null else timestamp '2024-06-01 12:00:00.5' + m * interval '1 minute' end,
         case when m % 9 = 0 then decode('00ff10' || lpad(to_hex(m), 4, '0'), 'hex') end
    from generate_series(${first}, ${last}) as i, generate_series(1, ${MESSAGES_PER_INSTANCE}) as m;
  update ${schema}.messages set body = repeat('large text ', 100000)
   where instance_id = md5('instance1')::uuid and message_id = 1;`;

let source: TestDatabase;
let target: TestDatabase;
let backupDir: string;

beforeEach(async () => {
  [source, target] = await Promise.all([createTestDatabase("bare"), createTestDatabase("bare")]);
  await withClient(source.url, (client) => client.query(TABLES("ai") + rows("ai", 1, INSTANCES)));
  // The target is in public, which the API exposes: its tables have row-level security on.
  await withClient(target.url, (client) =>
    client.query(
      `${TABLES("public")}; alter table public.message_instances enable row level security;
       alter table public.messages enable row level security;`,
    ),
  );
  backupDir = mkdtempSync(join(tmpdir(), "db-transfer-backups-"));
});
afterEach(async () => {
  await Promise.all([source.drop(), target.drop()]);
  rmSync(backupDir, { recursive: true, force: true });
});

const seedArgs = () => [
  "transfer",
  "--from",
  source.url,
  "--to",
  target.url,
  "--tables",
  "ai.messages,ai.message_instances",
  "--schema-map",
  "ai=public",
  "--backup-dir",
  backupDir,
];

async function targetQuery<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  return withClient(target.url, async (client) => (await client.query<T>(text)).rows);
}

function options(overrides: Partial<TransferOptions> = {}): TransferOptions {
  return {
    from: loadDatabaseConfig({ DATABASE_URL: source.url }),
    to: loadDatabaseConfig({ DATABASE_URL: target.url }),
    tables: ["ai.*"],
    schemaMap: new Map([["ai", "public"]]),
    batchSize: 500,
    backup: { method: "auto", directory: backupDir },
    triggers: "skip",
    restart: false,
    log: { info: () => undefined, warn: () => undefined },
    progress: process.stderr,
    ...overrides,
  };
}

/** The report's row for a table, as cells. */
function reportRow(stdout: string, table: string): string[] {
  const line = stdout.split("\n").find((candidate) => candidate.startsWith(`ai.${table} → public.${table} `));
  if (!line) throw new Error(`no report line for ${table} in:\n${stdout}`);
  return line.split(/\s{2,}/);
}

// Each test runs the CLI as a process, several times: generous on a loaded machine.
describe("db transfer: the seed's ai schema into public", { timeout: 180_000 }, () => {
  it("copies in foreign-key order, verifies counts and checksums, and exits 0", async () => {
    const result = await runCli([...seedArgs(), "--batch-size", "300"]);
    expect(result.stderr).toMatch(
      /tables in foreign-key order: ai\.message_instances → public\.message_instances, ai\.messages → public\.messages/,
    );
    expect(result.code, result.stderr).toBe(0);
    // table, copied, skipped, source rows, target rows, checksums, result
    expect(reportRow(result.stdout, "message_instances").slice(1, 5)).toEqual([
      `${INSTANCES}`,
      "0",
      `${INSTANCES}`,
      `${INSTANCES}`,
    ]);
    expect(reportRow(result.stdout, "messages").slice(1, 5)).toEqual([
      `${MESSAGES}`,
      "0",
      `${MESSAGES}`,
      `${MESSAGES}`,
    ]);
    expect(reportRow(result.stdout, "messages").at(-1)).toBe("equal");
    expect(result.stdout).toMatch(/^verified: 2 tables equal in source and target/m);
    // Not a TTY: one line per table instead of redrawn bars.
    expect(result.stderr).toContain(`copying public.messages: ${MESSAGES} rows in the source`);

    const [large] = await targetQuery<{ length: number }>(
      "select length(body) as length from public.messages where instance_id = md5('instance1')::uuid and message_id = 1",
    );
    expect(large?.length).toBe(1_100_000);
    const [awkward] = await targetQuery<{ body: string; payload: unknown; attachment: Buffer | null }>(
      "select body, payload, attachment from public.messages where instance_id = md5('instance2')::uuid and message_id = 9",
    );
    expect(awkward).toEqual({
      body: "line one\nline\ttwo \\ back 'quoted' \"double\" ✓ 9",
      payload: { m: 9, text: "tab\there" },
      attachment: Buffer.from("00ff100009", "hex"),
    });
  });

  it("a second run copies nothing, and --restart reads everything again but inserts nothing twice", async () => {
    expect((await runCli(seedArgs())).code).toBe(0);
    const again = await runCli(seedArgs());
    expect(again.code).toBe(0);
    expect(reportRow(again.stdout, "messages").slice(1, 5)).toEqual(["0", "0", `${MESSAGES}`, `${MESSAGES}`]);
    const restart = await runCli([...seedArgs(), "--restart"]);
    expect(restart.code).toBe(0);
    expect(reportRow(restart.stdout, "messages").slice(1, 5)).toEqual([
      "0",
      `${MESSAGES}`,
      `${MESSAGES}`,
      `${MESSAGES}`,
    ]);
    expect(reportRow(restart.stdout, "message_instances").slice(1, 3)).toEqual(["0", `${INSTANCES}`]);
  });

  it("into a target that already holds some of the rows: copies the rest and skips those", async () => {
    // The target already has instances 1-10 and their messages, identical to the source's.
    await withClient(target.url, (client) => client.query(rows("public", 1, 10)));
    const result = await runCli(seedArgs());
    expect(result.code, result.stderr).toBe(0);
    expect(reportRow(result.stdout, "message_instances").slice(1, 5)).toEqual([
      "30",
      "10",
      `${INSTANCES}`,
      `${INSTANCES}`,
    ]);
    expect(reportRow(result.stdout, "messages").slice(1, 5)).toEqual([
      `${MESSAGES - 10 * MESSAGES_PER_INSTANCE}`,
      `${10 * MESSAGES_PER_INSTANCE}`,
      `${MESSAGES}`,
      `${MESSAGES}`,
    ]);
  });

  it("reports a target row that differs from the source's and exits 1", async () => {
    await withClient(target.url, (client) =>
      client.query(
        "insert into public.message_instances (id, name, created_at) values (md5('instance7')::uuid, 'edited in the target', now())",
      ),
    );
    const result = await runCli(seedArgs());
    expect(result.code).toBe(1);
    expect(reportRow(result.stdout, "message_instances").slice(3, 5)).toEqual([
      `${INSTANCES}`,
      `${INSTANCES}`,
    ]);
    expect(reportRow(result.stdout, "message_instances").at(-1)).toBe("DIFFERENT");
    expect(reportRow(result.stdout, "messages").at(-1)).toBe("equal");
    expect(result.stdout).toMatch(
      /^DIFFERENT: public\.message_instances \(backup of the target before the transfer: /m,
    );
  });

  it("resumes after being killed mid-batch, copying each row once", async () => {
    // A row the 3rd batch of messages will insert, held by an open transaction: that batch waits on
    // it, with two batches committed, until the process is killed.
    const blocker = new pg.Client({ connectionString: target.url });
    await blocker.connect();
    try {
      const [third] = await withClient(
        source.url,
        async (client) =>
          (
            await client.query<{ instance_id: string; message_id: string }>(
              "select instance_id, message_id from ai.messages order by instance_id, message_id offset 250 limit 1",
            )
          ).rows,
      );
      // Uncommitted, and without the foreign-key check (its instance is not in the target yet).
      await blocker.query("begin");
      await blocker.query("set local session_replication_role = replica");
      await blocker.query(
        "insert into public.messages (instance_id, message_id, body) values ($1, $2, 'not the real row')",
        [third?.instance_id, third?.message_id],
      );
      const run = startCli([...seedArgs(), "--batch-size", "100"]);
      await waitFor(async () => {
        const waiting = await targetQuery<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and application_name = 'balansity-transfer'",
        );
        return waiting[0]?.n === 1;
      });
      const [before] = await targetQuery<{ rows_copied: string }>(
        "select rows_copied from balansity_transfer.progress where target_table = 'public.messages'",
      );
      expect(Number(before?.rows_copied)).toBe(200);
      run.child.kill("SIGKILL");
      const killed = await run.done;
      expect(killed.signal).toBe("SIGKILL");
      await blocker.query("rollback");

      const [{ n: present } = { n: -1 }] = await targetQuery<{ n: number }>(
        "select count(*)::int as n from public.messages",
      );
      expect(present).toBe(200); // the killed batch left nothing behind
      const resumed = await runCli(seedArgs());
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain("resuming after 200 copied earlier");
      // Nothing read twice: the resumed run starts after the last committed batch.
      expect(reportRow(resumed.stdout, "messages").slice(1, 5)).toEqual([
        `${MESSAGES - 200}`,
        "0",
        `${MESSAGES}`,
        `${MESSAGES}`,
      ]);
      expect(reportRow(resumed.stdout, "messages").at(-1)).toBe("equal");
    } finally {
      await blocker.end();
    }
  });

  it("backs up the target's tables first: pg_dump, or a compressed JSON export", async () => {
    await withClient(target.url, (client) => client.query(rows("public", 3, 3).split(";")[0] ?? ""));
    const report = await runTransfer(options({ backup: { method: "json", directory: backupDir } }));
    expect(report.backup.method).toBe("json");
    const lines = gunzipSync(readFileSync(report.backup.file)).toString("utf8").trim().split("\n");
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      format: "balansity-transfer-backup",
      version: 1,
      tables: ["public.message_instances", "public.messages"],
    });
    expect(lines.slice(1).map((line) => JSON.parse(line))).toEqual([
      {
        table: "public.message_instances",
        row: {
          id: expect.any(String),
          name: "instance 3",
          settings: { i: 3, nested: { ru: "привет", list: [1, 2.5, null] } },
          created_at: expect.stringMatching(/^2024-01-01T/),
          archived_at: expect.stringMatching(/^2025-02-03T04:05:06/),
        },
      },
    ]);
    expect(report.equal).toBe(true);

    const dumped = await runTransfer(options({ backup: { method: "auto", directory: backupDir } }));
    expect(readdirSync(backupDir)).toHaveLength(2);
    // pg_dump when the newest installed one can read this server (not older than it); JSON otherwise.
    const serverMajor = await withClient(target.url, async (client) => {
      const { rows } = await client.query<{ major: number }>(
        "select current_setting('server_version_num')::int / 10000 as major",
      );
      return rows[0]?.major ?? 0;
    });
    const root = "/usr/lib/postgresql";
    const newest = existsSync(root)
      ? Math.max(
          0,
          ...readdirSync(root)
            .filter((name) => existsSync(join(root, name, "bin/pg_dump")))
            .map(Number),
        )
      : 0;
    if (newest < serverMajor) {
      expect(dumped.backup.method).toBe("json");
      return;
    }
    expect(dumped.backup.method).toBe("pg_dump");
    // The dump holds the data of exactly the transferred tables, the target's row among it.
    const restore = join(root, String(newest), "bin/pg_restore");
    const listed = spawnSync(restore, ["--list", dumped.backup.file], { encoding: "utf8" });
    expect(listed.status, listed.stderr).toBe(0);
    const entries = listed.stdout.split("\n").filter((line) => line.includes("TABLE DATA"));
    expect(entries.map((line) => line.split(" TABLE DATA ")[1]?.split(" ").slice(0, 2).join("."))).toEqual([
      "public.message_instances",
      "public.messages",
    ]);
    const data = spawnSync(restore, ["--data-only", "--file", "-", dumped.backup.file], { encoding: "utf8" });
    expect(data.stdout).toContain("instance 3");
  });

  it("refuses to copy into an exposed schema's table with row-level security off, unless --allow-no-rls", async () => {
    await withClient(target.url, (client) =>
      client.query("alter table public.message_instances disable row level security"),
    );
    const refused = await runCli(seedArgs());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "- public.message_instances has row-level security off, and schema public is exposed through the API: anyone with the anon key could read the rows copied into it.",
    );
    expect(refused.stderr).not.toContain("public.messages has row-level security off");
    expect(await targetQuery("select 1 from public.message_instances")).toEqual([]);

    const allowed = await runCli([...seedArgs(), "--allow-no-rls"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await targetQuery("select 1 from public.message_instances")).toHaveLength(INSTANCES);
  });

  it("with --create-tables creates a missing target table from the source's, row-level security on and no policy", async () => {
    await withClient(target.url, (client) =>
      client.query("drop table public.messages; drop table public.message_instances"),
    );
    // Without the flag a missing table is still an error, and nothing is created.
    const refused = await runCli(seedArgs());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "- public.message_instances does not exist in the target (source ai.message_instances)",
    );
    expect(await targetQuery("select to_regclass('public.messages') as t")).toEqual([{ t: null }]);

    const created = await runCli([...seedArgs(), "--create-tables"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain(
      "created in the target (row-level security on, no policy: write the policies it needs): public.message_instances, public.messages",
    );
    expect(created.stdout).toContain("verified: 2 tables equal in source and target");
    const tables = await targetQuery<{ name: string; rls: boolean; policies: number }>(
      `select c.relname as name, c.relrowsecurity as rls,
              (select count(*)::int from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname) as policies
         from pg_class c where c.oid in ('public.message_instances'::regclass, 'public.messages'::regclass)
        order by 1`,
    );
    expect(tables).toEqual([
      { name: "message_instances", rls: true, policies: 0 },
      { name: "messages", rls: true, policies: 0 },
    ]);
    // The source's definition: types, not null, primary key, the foreign key into the mapped schema.
    const columns = await targetQuery<{ column: string; type: string; not_null: boolean }>(
      `select a.attname as column, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null
         from pg_attribute a where a.attrelid = 'public.messages'::regclass and a.attnum > 0 order by a.attnum`,
    );
    expect(columns).toEqual([
      { column: "instance_id", type: "uuid", not_null: true },
      { column: "message_id", type: "bigint", not_null: true },
      { column: "body", type: "text", not_null: false },
      { column: "payload", type: "jsonb", not_null: true },
      { column: "sent_at", type: "timestamp without time zone", not_null: false },
      { column: "attachment", type: "bytea", not_null: false },
    ]);
    const constraints = await targetQuery<{ definition: string }>(
      `select pg_get_constraintdef(oid) as definition from pg_constraint
        where conrelid = 'public.messages'::regclass order by contype`,
    );
    expect(constraints.map((row) => row.definition)).toEqual([
      "FOREIGN KEY (instance_id) REFERENCES message_instances(id)",
      "PRIMARY KEY (instance_id, message_id)",
    ]);
    expect(await targetQuery("select 1 from public.messages")).toHaveLength(MESSAGES);
    // The API's roles see nothing of the copied rows (no policy).
    const visible = await withClient(target.url, async (client) => {
      // Even granted select (as Supabase grants every public table to anon), row security hides them.
      await client.query("begin; grant select on public.message_instances to anon; set local role anon");
      const { rows } = await client.query("select count(*)::int as n from public.message_instances");
      await client.query("rollback");
      return rows[0].n;
    });
    expect(visible).toBe(0);
  });

  it("refuses a plan it cannot carry out, listing every problem before anything is written", async () => {
    await withClient(source.url, (client) =>
      client.query("create table ai.no_key (value text); create table ai.only_here (id int primary key)"),
    );
    const result = await runCli([
      ...seedArgs().slice(0, 5),
      "--schema-map",
      "ai=public",
      "--backup-dir",
      backupDir,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("transfer stopped before copying (transfer_plan_invalid)");
    expect(result.stderr).toContain("- ai.no_key has no primary key");
    expect(result.stderr).toContain("- public.only_here does not exist in the target (source ai.only_here)");
    expect(readdirSync(backupDir)).toEqual([]);
    expect(await targetQuery("select 1 from public.messages")).toEqual([]);
  });

  it("refuses bad options with every problem and exit status 2", async () => {
    const result = await runCli([
      "transfer",
      "--to",
      "mysql://x@y/z",
      "--schema-map",
      "ai",
      "--batch-size",
      "0",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--from is required (or set TRANSFER_FROM_URL)");
    expect(result.stderr).toContain("--schema-map is source=target, e.g. ai=public");
    expect(result.stderr).toContain("--batch-size must be from 1 to 1000000");
  });
});

describe("db transfer: target roles and sequences", { timeout: 180_000 }, () => {
  it("a role that may not skip triggers is told so before rows are copied; --triggers fire works for it", async () => {
    const role = `transfer_${Math.random().toString(36).slice(2, 10)}`;
    await withClient(target.url, (client) =>
      client.query(
        `create role ${role} login;
         grant usage, create on schema public to ${role};
         grant all on all tables in schema public to ${role};
         grant create on database ${target.name} to ${role};
         create policy transfer_all on public.message_instances for all to ${role} using (true) with check (true);
         create policy transfer_all on public.messages for all to ${role} using (true) with check (true);`,
      ),
    );
    try {
      const limited = new URL(target.url);
      limited.username = role;
      const args = ["transfer", "--from", source.url, "--to", limited.toString(), "--tables", "ai.*"];
      const refused = await runCli([
        ...args,
        "--schema-map",
        "ai=public",
        "--backup",
        "json",
        "--backup-dir",
        backupDir,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("may not set session_replication_role");
      expect(await targetQuery("select 1 from public.message_instances")).toEqual([]);
      const fired = await runCli([
        ...args,
        "--schema-map",
        "ai=public",
        "--backup",
        "json",
        "--backup-dir",
        backupDir,
        "--triggers",
        "fire",
      ]);
      expect(fired.code, fired.stderr).toBe(0);
    } finally {
      await withClient(target.url, (client) => client.query(`drop owned by ${role}; drop role ${role}`));
    }
  });

  it("maps enum types (and arrays of them) of the source schema to the target schema's", async () => {
    const table = (schema: string) =>
      `create type ${schema}.mood as enum ('calm', 'busy'); create table ${schema}.moods (id int primary key, mood ${schema}.mood, moods ${schema}.mood[]);`;
    await withClient(source.url, (client) =>
      client.query(`${table("ai")} insert into ai.moods values (1, 'calm', '{calm,busy}'), (2, null, null);`),
    );
    await withClient(target.url, (client) =>
      client.query(`${table("public")} alter table public.moods enable row level security;`),
    );
    const report = await runTransfer(options({ tables: ["ai.moods"] }));
    expect(report.tables[0]).toMatchObject({ inserted: 2 });
    expect(report.equal).toBe(true);
  });

  it("moves serial and identity sequences past the copied values", async () => {
    const table = (schema: string) =>
      `create table ${schema}.counters (id bigserial primary key, code int generated by default as identity unique, label text);`;
    await withClient(source.url, (client) =>
      client.query(
        `${table("ai")} insert into ai.counters (label) select 'n' || i from generate_series(1, 25) i;`,
      ),
    );
    await withClient(target.url, (client) =>
      client.query(`${table("public")} alter table public.counters enable row level security;`),
    );
    const report = await runTransfer(options({ tables: ["ai.counters"] }));
    expect(report.equal).toBe(true);
    const [next] = await targetQuery<{ id: string; code: number }>(
      "insert into public.counters (label) values ('after') returning id, code",
    );
    expect(next).toEqual({ id: "26", code: 26 });
  });

  it("--create-tables carries serial and identity columns, defaults, unique and check constraints", async () => {
    await withClient(source.url, (client) =>
      client.query(
        `create table ai.counters (id bigserial primary key, code int generated always as identity unique,
           n int not null default 0 check (n >= 0), label text default 'none');
         insert into ai.counters (n, label) select i, 'n' || i from generate_series(1, 25) i;`,
      ),
    );
    const report = await runTransfer(options({ tables: ["ai.counters"], createTables: true }));
    expect(report.equal).toBe(true);
    const [next] = await targetQuery<{ id: string; code: number; n: number; label: string }>(
      "insert into public.counters default values returning id, code, n, label",
    );
    expect(next).toEqual({ id: "26", code: 26, n: 0, label: "none" });
    await expect(targetQuery("insert into public.counters (n) values (-1)")).rejects.toThrow(
      /counters_n_check/,
    );
    await expect(targetQuery("insert into public.counters (code) values (1)")).rejects.toThrow(
      /counters_code_key/,
    );
    const [rls] = await targetQuery<{ rls: boolean }>(
      "select relrowsecurity as rls from pg_class where oid = 'public.counters'::regclass",
    );
    expect(rls).toEqual({ rls: true });
  });
});

describe("db transfer: this project's tables", { timeout: 180_000 }, () => {
  let seeded: TestDatabase;
  let empty: TestDatabase;
  beforeEach(async () => {
    [seeded, empty] = await Promise.all([createTestDatabase("migrated"), createTestDatabase("migrated")]);
    await applySeed(seeded.url);
  });
  afterEach(() => Promise.all([seeded.drop(), empty.drop()]));

  it("moves users, profiles and checkups without firing the target's triggers, verified equal", async () => {
    const result = await runCli([
      "transfer",
      "--from",
      seeded.url,
      "--to",
      empty.url,
      "--tables",
      "public.assessments,public.profiles,auth.users",
      "--backup-dir",
      backupDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/foreign-key order: auth\.users, public\.profiles, public\.assessments/);
    expect(result.stdout).toMatch(/^verified: 3 tables equal/m);
    const counts = await withClient(empty.url, async (client) => {
      const { rows } = await client.query<{ profiles: number; queued: number }>(
        "select (select count(*)::int from public.profiles) as profiles, (select count(*)::int from pgmq.q_email_queue) as queued",
      );
      return rows[0];
    });
    const sourceProfiles = await withClient(seeded.url, async (client) =>
      Number((await client.query("select count(*) from public.profiles")).rows[0]?.count),
    );
    expect(counts).toEqual({ profiles: sourceProfiles, queued: 0 });
  });
});

describe("db transfer: rows whose foreign key points nowhere", { timeout: 180_000 }, () => {
  it("are reported, with the table to copy as well, and exit 1", async () => {
    const [seeded, empty] = await Promise.all([
      createTestDatabase("migrated"),
      createTestDatabase("migrated"),
    ]);
    try {
      await applySeed(seeded.url);
      const profiles = await withClient(seeded.url, async (client) =>
        Number((await client.query("select count(*) from public.profiles")).rows[0]?.count),
      );
      // profiles without auth.users: triggers and foreign-key checks are skipped while copying.
      const result = await runCli([
        "transfer",
        "--from",
        seeded.url,
        "--to",
        empty.url,
        "--tables",
        "public.profiles",
        "--backup",
        "json",
        "--backup-dir",
        backupDir,
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        `public.profiles: ${profiles} rows reference auth.users rows the target does not have (profiles_id_fkey): copy auth.users too`,
      );
      expect(result.stdout).toMatch(/^DIFFERENT: public\.profiles /m);
    } finally {
      await Promise.all([seeded.drop(), empty.drop()]);
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
