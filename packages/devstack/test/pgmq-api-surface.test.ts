import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, devstackInfo, type TestDatabase } from "../src/testing.ts";

// The pgmq 1.5.1 API our code may use: identity arguments -> result type.
// Both the real extension and sql/pgmq-compat.sql must provide each of these exactly.
const PGMQ_1_5_1_FUNCTIONS: ReadonlyArray<readonly [name: string, args: string, result: string]> = [
  ["create", "queue_name text", "void"],
  ["create_non_partitioned", "queue_name text", "void"],
  ["create_unlogged", "queue_name text", "void"],
  ["create_partitioned", "queue_name text, partition_interval text, retention_interval text", "void"],
  ["drop_queue", "queue_name text", "boolean"],
  ["drop_queue", "queue_name text, partitioned boolean", "boolean"],
  ["detach_archive", "queue_name text", "void"],
  [
    "convert_archive_partitioned",
    "table_name text, partition_interval text, retention_interval text, leading_partition integer",
    "void",
  ],
  ["purge_queue", "queue_name text", "bigint"],
  ["list_queues", "", "SETOF pgmq.queue_record"],
  ["validate_queue_name", "queue_name text", "void"],
  ["format_table_name", "queue_name text, prefix text", "text"],
  ["send", "queue_name text, msg jsonb", "SETOF bigint"],
  ["send", "queue_name text, msg jsonb, headers jsonb", "SETOF bigint"],
  ["send", "queue_name text, msg jsonb, delay integer", "SETOF bigint"],
  ["send", "queue_name text, msg jsonb, delay timestamp with time zone", "SETOF bigint"],
  ["send", "queue_name text, msg jsonb, headers jsonb, delay integer", "SETOF bigint"],
  ["send", "queue_name text, msg jsonb, headers jsonb, delay timestamp with time zone", "SETOF bigint"],
  ["send_batch", "queue_name text, msgs jsonb[]", "SETOF bigint"],
  ["send_batch", "queue_name text, msgs jsonb[], headers jsonb[]", "SETOF bigint"],
  ["send_batch", "queue_name text, msgs jsonb[], delay integer", "SETOF bigint"],
  ["send_batch", "queue_name text, msgs jsonb[], delay timestamp with time zone", "SETOF bigint"],
  ["send_batch", "queue_name text, msgs jsonb[], headers jsonb[], delay integer", "SETOF bigint"],
  [
    "send_batch",
    "queue_name text, msgs jsonb[], headers jsonb[], delay timestamp with time zone",
    "SETOF bigint",
  ],
  ["read", "queue_name text, vt integer, qty integer, conditional jsonb", "SETOF pgmq.message_record"],
  [
    "read_with_poll",
    "queue_name text, vt integer, qty integer, max_poll_seconds integer, poll_interval_ms integer, conditional jsonb",
    "SETOF pgmq.message_record",
  ],
  ["pop", "queue_name text", "SETOF pgmq.message_record"],
  ["set_vt", "queue_name text, msg_id bigint, vt integer", "SETOF pgmq.message_record"],
  ["archive", "queue_name text, msg_id bigint", "boolean"],
  ["archive", "queue_name text, msg_ids bigint[]", "SETOF bigint"],
  ["delete", "queue_name text, msg_id bigint", "boolean"],
  ["delete", "queue_name text, msg_ids bigint[]", "SETOF bigint"],
  ["metrics", "queue_name text", "pgmq.metrics_result"],
  ["metrics_all", "", "SETOF pgmq.metrics_result"],
];

const signature = (name: string, args: string, result: string) => `${name}(${args}) -> ${result}`;

interface FunctionRow {
  name: string;
  args: string;
  result: string;
  security_definer: boolean;
}

const compat = !devstackInfo().pgmqExtension;
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("platform");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function pgmqFunctions(): Promise<FunctionRow[]> {
  const { rows } = await client.query<FunctionRow>(`
    select p.proname as name,
           pg_get_function_identity_arguments(p.oid) as args,
           pg_get_function_result(p.oid) as result,
           p.prosecdef as security_definer
    from pg_proc p
    where p.pronamespace = 'pgmq'::regnamespace
  `);
  return rows;
}

async function typeAttributes(type: string): Promise<string[]> {
  const { rows } = await client.query<{ attribute: string }>(
    `select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) as attribute
     from pg_attribute a
     where a.attrelid = (select typrelid from pg_type where oid = $1::regtype)
       and a.attnum > 0 and not a.attisdropped
     order by a.attnum`,
    [type],
  );
  return rows.map((row) => row.attribute);
}

describe("pgmq API surface", () => {
  it("provides every pgmq 1.5.1 function with its exact arguments and result type", async () => {
    const present = new Set((await pgmqFunctions()).map((f) => signature(f.name, f.args, f.result)));
    const missing = PGMQ_1_5_1_FUNCTIONS.map(([name, args, result]) => signature(name, args, result)).filter(
      (expected) => !present.has(expected),
    );
    expect(missing).toEqual([]);
  });

  it.skipIf(!compat)("provides no public function beyond the pgmq 1.5.1 set (nothing newer)", async () => {
    const expected = new Set(
      PGMQ_1_5_1_FUNCTIONS.map(([name, args, result]) => signature(name, args, result)),
    );
    const extra = (await pgmqFunctions())
      .filter((f) => !f.name.startsWith("_"))
      .map((f) => signature(f.name, f.args, f.result))
      .filter((found) => !expected.has(found));
    expect(extra).toEqual([]);
  });

  it("has no security definer function in schema pgmq", async () => {
    const definers = (await pgmqFunctions()).filter((f) => f.security_definer).map((f) => f.name);
    expect(definers).toEqual([]);
  });

  it("lets pg_monitor read queues and grants nothing on schema pgmq to public or the API roles", async () => {
    await client.query("select pgmq.create('grants_check')");
    const { rows } = await client.query<Record<string, boolean>>(`
      select has_schema_privilege('pg_monitor', 'pgmq', 'usage') as monitor_usage,
             has_table_privilege('pg_monitor', 'pgmq.meta', 'select') as monitor_meta,
             has_table_privilege('pg_monitor', 'pgmq.q_grants_check', 'select') as monitor_queue,
             has_table_privilege('pg_monitor', 'pgmq.a_grants_check', 'select') as monitor_archive,
             has_table_privilege('pg_monitor', 'pgmq.q_grants_check', 'delete') as monitor_delete,
             exists (
               select 1 from pg_namespace n, aclexplode(n.nspacl) a
               where n.nspname = 'pgmq' and a.grantee = 0
             ) as public_schema_grant,
             exists (
               select 1 from pg_roles r
               where r.rolname in ('anon', 'authenticated')
                 and has_schema_privilege(r.oid, 'pgmq', 'usage')
             ) as api_role_usage
    `);
    expect(rows[0]).toEqual({
      monitor_usage: true,
      monitor_meta: true,
      monitor_queue: true,
      monitor_archive: true,
      monitor_delete: false,
      public_schema_grant: false,
      api_role_usage: false,
    });
  });

  it("defines pgmq's composite types with their attributes in order", async () => {
    expect(await typeAttributes("pgmq.message_record")).toEqual([
      "msg_id bigint",
      "read_ct integer",
      "enqueued_at timestamp with time zone",
      "vt timestamp with time zone",
      "message jsonb",
      "headers jsonb",
    ]);
    expect(await typeAttributes("pgmq.queue_record")).toEqual([
      "queue_name character varying",
      "is_partitioned boolean",
      "is_unlogged boolean",
      "created_at timestamp with time zone",
    ]);
    expect(await typeAttributes("pgmq.metrics_result")).toEqual([
      "queue_name text",
      "queue_length bigint",
      "newest_msg_age_sec integer",
      "oldest_msg_age_sec integer",
      "total_messages bigint",
      "scrape_time timestamp with time zone",
      "queue_visible_length bigint",
    ]);
  });

  it("creates pgmq.meta and per-queue tables with pgmq's columns, defaults and indexes", async () => {
    await client.query("select pgmq.create('shape_check')");
    const columns = async (table: string) =>
      (
        await client.query<{ col: string }>(
          `select concat_ws(' ', column_name, data_type, is_nullable,
                            case when is_identity = 'YES' then 'identity ' || identity_generation end,
                            case when column_default like 'now()%' then 'default now()' end,
                            case when column_default = '0' then 'default 0' end) as col
           from information_schema.columns
           where table_schema = 'pgmq' and table_name = $1
           order by ordinal_position`,
          [table],
        )
      ).rows.map((row) => row.col);

    expect(await columns("meta")).toEqual([
      "queue_name character varying NO",
      "is_partitioned boolean NO",
      "is_unlogged boolean NO",
      "created_at timestamp with time zone NO default now()",
    ]);
    expect(await columns("q_shape_check")).toEqual([
      "msg_id bigint NO identity ALWAYS",
      "read_ct integer NO default 0",
      "enqueued_at timestamp with time zone NO default now()",
      "vt timestamp with time zone NO",
      "message jsonb YES",
      "headers jsonb YES",
    ]);
    expect(await columns("a_shape_check")).toEqual([
      "msg_id bigint NO",
      "read_ct integer NO default 0",
      "enqueued_at timestamp with time zone NO default now()",
      "archived_at timestamp with time zone NO default now()",
      "vt timestamp with time zone NO",
      "message jsonb YES",
      "headers jsonb YES",
    ]);

    const { rows: indexes } = await client.query<{ tablename: string; indexdef: string }>(
      "select tablename, indexdef from pg_indexes where schemaname = 'pgmq' and tablename like '%_shape_check'",
    );
    const defs = indexes.map((index) => index.indexdef);
    expect(defs.some((def) => /ON pgmq\.q_shape_check .*\(vt\)/.test(def))).toBe(true);
    expect(defs.some((def) => /UNIQUE INDEX .* ON pgmq\.q_shape_check .*\(msg_id\)/.test(def))).toBe(true);
    expect(defs.some((def) => /ON pgmq\.a_shape_check .*\(archived_at\)/.test(def))).toBe(true);
  });

  it.skipIf(!compat)(
    "installs idempotently: running pgmq-compat.sql again keeps queues and messages",
    async () => {
      await client.query("select pgmq.create('reinstall')");
      await client.query(`select pgmq.send('reinstall', '{"kept": true}')`);
      const sql = readFileSync(new URL("../sql/pgmq-compat.sql", import.meta.url), "utf8");
      await client.query(sql);
      await client.query(sql);
      const { rows } = await client.query<{ message: unknown }>(
        "select message from pgmq.read('reinstall', 30, 10)",
      );
      expect(rows).toEqual([{ message: { kept: true } }]);
      const { rows: queues } = await client.query<{ queue_name: string }>(
        "select queue_name from pgmq.list_queues() where queue_name = 'reinstall'",
      );
      expect(queues).toHaveLength(1);
    },
  );
});
