// pgmq's own regression script (test/sql/base.sql of pgmq v1.5.1), statement by statement, with the
// results pgmq 1.5.1 gives. The partitioned parts (pg_partman) and the parts that drop the extension
// are left out. It runs against whatever pgmq the devstack installed: our pgmq-compatible SQL, or the
// real extension when it is version 1.5.1 (what Supabase runs).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, devstackInfo, type TestDatabase } from "../src/testing.ts";

const TOO_LONG = "queue name is too long, maximum length is 48 characters";
const INVALID_CHARACTERS = "queue name contains invalid characters: $, ;, --, or \\'";
const DEPRECATED_DROP =
  "drop_queue(queue_name, partitioned) is deprecated and will be removed in PGMQ v2.0. Use drop_queue(queue_name) instead.";

let db: TestDatabase;
let client: pg.Client;
let extensionVersion: string | null = null;
const warnings: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase("platform");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on("notice", (notice) => {
    if (notice.severity === "WARNING") warnings.push(notice.message ?? "");
  });
  const { rows } = await client.query<{ version: string | null }>(
    "select (select extversion from pg_extension where extname = 'pgmq') as version",
  );
  extensionVersion = rows[0]?.version ?? null;
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function rows<T extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  return (await client.query<T>(sql, values)).rows;
}

/** The first column of every row. */
async function column(sql: string, values: unknown[] = []): Promise<unknown[]> {
  const result = await client.query({ text: sql, values, rowMode: "array" });
  return result.rows.map((row: unknown[]) => row[0]);
}

/** The error a statement fails with (SQLSTATE and primary message); throws when it succeeds. */
async function failure(sql: string, values: unknown[] = []): Promise<{ code: string; message: string }> {
  try {
    await client.query(sql, values);
  } catch (error) {
    const { code = "", message } = error as { code?: string; message: string };
    return { code, message };
  }
  throw new Error(`expected to fail: ${sql}`);
}

const ids = (values: unknown[]) => values.map(Number);

describe("pgmq 1.5.1 regression script (base.sql)", () => {
  it("runs against pgmq 1.5.1 or the compatible SQL (what Supabase runs)", () => {
    expect(devstackInfo().pgmqExtension ? extensionVersion : "compatible SQL").toMatch(
      /^(1\.5\.1|compatible SQL)$/,
    );
  });

  it("test_unlogged: an unlogged queue sends and reads a message with headers", async () => {
    await client.query("select pgmq.create_unlogged('test_unlogged_queue')");
    expect(
      ids(
        await column(
          `select * from pgmq.send('test_unlogged_queue', '{"hello": "world"}', '{"header": 1}'::jsonb)`,
        ),
      ),
    ).toEqual([1]);
    expect(
      await rows(
        `select msg_id, read_ct, enqueued_at > now() as enqueued_later, vt > now() as hidden, message, headers
           from pgmq.read('test_unlogged_queue', 2, 1)`,
      ),
    ).toEqual([
      {
        msg_id: "1",
        read_ct: 1,
        enqueued_later: false,
        hidden: true,
        message: { hello: "world" },
        headers: { header: 1 },
      },
    ]);
  });

  it("test_max_queue_name_size: refuses 48 characters with pgmq's text, accepts 47", async () => {
    expect(await failure("select pgmq.create(repeat('a', 48))")).toEqual({
      code: "P0001",
      message: TOO_LONG,
    });
    await client.query("select pgmq.create(repeat('a', 47))");
    expect(
      await column("select count(*)::int from pgmq.list_queues() where queue_name = repeat('a', 47)"),
    ).toEqual([1]);
  });

  it("test_lifecycle: create is idempotent; read, conditional read, set_vt and read_with_poll", async () => {
    await client.query("select pgmq.create('test_default_queue')");
    await client.query("select pgmq.create('test_default_queue')");
    expect(ids(await column(`select * from pgmq.send('test_default_queue', '{"hello": "world"}')`))).toEqual([
      1,
    ]);
    expect(await column("select msg_id = 1 from pgmq.read('test_default_queue', 0, 1)")).toEqual([true]);
    expect(
      await column(`select msg_id = 1 from pgmq.read('test_default_queue', 2, 1, '{"hello": "world"}')`),
    ).toEqual([true]);
    expect(
      await column(
        "select vt > clock_timestamp() + '4 seconds'::interval from pgmq.set_vt('test_default_queue', 1, 5)",
      ),
    ).toEqual([true]);
    expect(await column("select msg_id = 1 from pgmq.read('test_default_queue', 2, 1)")).toEqual([]);
    expect(
      await column("select msg_id = 1 from pgmq.read_with_poll('test_default_queue', 10, 1, 10)"),
    ).toEqual([true]);
    expect(
      await column(
        "select vt > clock_timestamp() + '4 seconds'::interval from pgmq.set_vt('test_default_queue', 1, 5)",
      ),
    ).toEqual([true]);
    expect(
      await column(
        `select msg_id = 1 from pgmq.read_with_poll('test_default_queue', 10, 1, 10, 100, '{"hello": "world"}')`,
      ),
    ).toEqual([true]);
    expect(await column("select msg_id = 1 from pgmq.set_vt('test_default_queue', 1, 0)")).toEqual([true]);
    expect(await column("select msg_id = 1 from pgmq.read('test_default_queue', 2, 1)")).toEqual([true]);
  });

  it("send with a timestamp hides the message until then; read_with_poll waits for it", async () => {
    await client.query("select pgmq.create('test_default_queue_vt')");
    expect(
      ids(
        await column(
          `select * from pgmq.send('test_default_queue_vt', '{"hello": "world"}', current_timestamp + '5 seconds'::interval)`,
        ),
      ),
    ).toEqual([1]);
    expect(await column("select msg_id = 1 from pgmq.read('test_default_queue_vt', 2, 1)")).toEqual([]);
    expect(
      await column("select msg_id = 1 from pgmq.read_with_poll('test_default_queue_vt', 10, 1, 10)"),
    ).toEqual([true]);
  });

  it("send_batch with headers and with a timestamp returns the ids in order", async () => {
    await client.query("select pgmq.create('batch_queue')");
    expect(
      await column(
        `select array(select pgmq.send_batch('batch_queue',
             array['{"hello": "world_0"}', '{"hello": "world_1"}']::jsonb[],
             array['{"header": 1}', '{"header": 2}']::jsonb[])) = array[1, 2]::bigint[]`,
      ),
    ).toEqual([true]);
    expect(await rows("select msg_id, message, headers from pgmq.read('batch_queue', 0, 2)")).toEqual([
      { msg_id: "1", message: { hello: "world_0" }, headers: { header: 1 } },
      { msg_id: "2", message: { hello: "world_1" }, headers: { header: 2 } },
    ]);
    await client.query("select pgmq.create('batch_queue_vt')");
    expect(
      await column(
        `select array(select pgmq.send_batch('batch_queue_vt',
             array['{"hello": "world_0"}', '{"hello": "world_1"}']::jsonb[],
             current_timestamp + '5 seconds'::interval)) = array[1, 2]::bigint[]`,
      ),
    ).toEqual([true]);
  });

  it("metrics counts queued, visible and ever-sent messages; metrics_all has a row per queue", async () => {
    await client.query("select pgmq.create('test_metrics_queue')");
    expect(
      ids(
        await column("select pgmq.send_batch('test_metrics_queue', array['1', '2', '3', '4', '5']::jsonb[])"),
      ),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(
      ids(await column("select pgmq.send_batch('test_metrics_queue', array['6', '7']::jsonb[], 10)")),
    ).toEqual([6, 7]);
    expect(await column("select pgmq.archive('test_metrics_queue', 1)")).toEqual([true]);
    expect(
      await rows(
        `select queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages, queue_visible_length
           from pgmq.metrics('test_metrics_queue')`,
      ),
    ).toEqual([
      {
        queue_name: "test_metrics_queue",
        queue_length: "6",
        newest_msg_age_sec: 0,
        oldest_msg_age_sec: 0,
        total_messages: "7",
        queue_visible_length: "4",
      },
    ]);
    // base.sql counts 10 with its three partitioned queues, which are left out here
    expect(await column("select count(1)::int from pgmq.metrics_all()")).toEqual([7]);
  });

  it("drop_queue: true for a queue; 1.5.1 fails for a missing one; the deprecated form warns", async () => {
    await client.query("select pgmq.create('exists')");
    expect(await column("select pgmq.drop_queue('exists')")).toEqual([true]);
    expect(await failure("select pgmq.drop_queue('does_not_exist')")).toEqual({
      code: "42P01",
      message: 'relation "pgmq.q_does_not_exist" does not exist',
    });
    warnings.length = 0;
    expect(
      await column(
        "select pgmq.drop_queue(q.queue_name, true) from (select queue_name from pgmq.list_queues()) as q",
      ),
    ).toEqual([true, true, true, true, true, true, true]);
    expect(warnings).toEqual(Array.from({ length: 7 }, () => DEPRECATED_DROP));
    expect(await column("select queue_name from pgmq.list_queues()")).toEqual([]);
  });

  it("test_archive: archive moves messages, bodies and headers to the archive table", async () => {
    await client.query("select pgmq.create('archive_queue')");
    expect(await column("select count(*) = 0 from pgmq.q_archive_queue")).toEqual([true]);
    expect(await column("select count(*) = 0 from pgmq.a_archive_queue")).toEqual([true]);
    expect(
      await column(`select send = 1::bigint from pgmq.send('archive_queue', '0', '{"headers": 1}'::jsonb)`),
    ).toEqual([true]);
    expect(await column("select send = 2::bigint from pgmq.send('archive_queue', '0')")).toEqual([true]);
    expect(await column("select count(*) = 2 from pgmq.q_archive_queue")).toEqual([true]);
    expect(
      await column(
        "select array(select * from pgmq.archive('archive_queue', array[1::bigint, 2::bigint])) = array[1::bigint, 2::bigint]",
      ),
    ).toEqual([true]);
    expect(await column("select count(*) = 0 from pgmq.q_archive_queue")).toEqual([true]);
    expect(await column("select count(*) = 2 from pgmq.a_archive_queue")).toEqual([true]);
    expect(await column("select send = 3::bigint from pgmq.send('archive_queue', '0')")).toEqual([true]);
    expect(await column("select count(*) = 1 from pgmq.q_archive_queue")).toEqual([true]);
    expect(await column("select * from pgmq.archive('archive_queue', 3::bigint)")).toEqual([true]);
    expect(await column("select count(*) = 0 from pgmq.q_archive_queue")).toEqual([true]);
    expect(await column("select count(*) = 3 from pgmq.a_archive_queue")).toEqual([true]);
    expect(await rows("select msg_id, message, headers from pgmq.a_archive_queue order by msg_id")).toEqual([
      { msg_id: "1", message: 0, headers: { headers: 1 } },
      { msg_id: "2", message: 0, headers: null },
      { msg_id: "3", message: 0, headers: null },
    ]);
  });

  it("test_read_read_with_poll: read respects the limit and the vt; read_with_poll waits for the vt", async () => {
    await client.query("select pgmq.create('test_read_queue')");
    for (const id of [1, 2, 3]) {
      expect(await column(`select send = ${id}::bigint from pgmq.send('test_read_queue', '0')`)).toEqual([
        true,
      ]);
    }
    expect(await column("select msg_id = 1 from pgmq.read('test_read_queue', 5, 1)")).toEqual([true]);
    expect(ids(await column("select msg_id from pgmq.read('test_read_queue', 10, 5)"))).toEqual([2, 3]);
    const [start] = await column("select clock_timestamp()::text");
    expect(
      ids(await column("select msg_id from pgmq.read_with_poll('test_read_queue', 10, 5, 6, 100)")),
    ).toEqual([1]);
    // message 1 was hidden for 5 s by the first read: the poll could only return once that ran out
    expect(
      await column("select clock_timestamp() - $1::timestamptz > '3 seconds'::interval", [start]),
    ).toEqual([true]);
  });

  it("test_purge_queue: purge_queue deletes every message and returns how many", async () => {
    await client.query("select pgmq.create('test_purge_queue')");
    for (let i = 0; i < 5; i++) await client.query("select * from pgmq.send('test_purge_queue', '0')");
    expect(ids(await column("select * from pgmq.purge_queue('test_purge_queue')"))).toEqual([5]);
    expect(await column("select count(*) = 0 from pgmq.q_test_purge_queue")).toEqual([true]);
  });

  it("test_pop: pop of an empty queue returns nothing, then the oldest message", async () => {
    await client.query("select pgmq.create('test_pop_queue')");
    expect(await rows("select * from pgmq.pop('test_pop_queue')")).toEqual([]);
    const first = await column("select send from pgmq.send('test_pop_queue', '0')");
    await client.query("select * from pgmq.send('test_pop_queue', '0')");
    await client.query("select * from pgmq.send('test_pop_queue', '0')");
    expect(await column("select msg_id = $1 from pgmq.pop('test_pop_queue')", [first[0]])).toEqual([true]);
  });

  it("test_set_vt: set_vt of a missing message returns nothing; it hides and shows a message", async () => {
    await client.query("select pgmq.create('test_set_vt_queue')");
    expect(await rows("select * from pgmq.set_vt('test_set_vt_queue', 9999, 0)")).toEqual([]);
    const [first] = await column("select send from pgmq.send('test_set_vt_queue', '0')");
    expect(await column("select msg_id from pgmq.set_vt('test_set_vt_queue', $1, 100)", [first])).toEqual([
      first,
    ]);
    expect(await column("select msg_id from pgmq.read('test_set_vt_queue', 1, 1)")).toEqual([]);
    expect(await column("select msg_id from pgmq.set_vt('test_set_vt_queue', $1, 0)", [first])).toEqual([
      first,
    ]);
    expect(await column("select msg_id from pgmq.read('test_set_vt_queue', 1, 1)")).toEqual([first]);
  });

  it("test_transaction_create: a queue created in a rolled-back transaction does not exist", async () => {
    await client.query("begin");
    await client.query("select pgmq.create('transaction_test_queue')");
    await client.query("rollback");
    expect(
      await column(
        "select tablename from pg_tables where schemaname = 'pgmq' and tablename = 'q_transaction_test_queue'",
      ),
    ).toEqual([]);
  });

  it("failed SQL injection attack: the queue name is refused with pgmq's text", async () => {
    await client.query("select pgmq.create('abc')");
    expect(
      await failure(`select pgmq.delete(
           'abc where false;
           create table public.attack_vector(id int);
           delete from pgmq.q_abc',
           1)`),
    ).toEqual({ code: "P0001", message: INVALID_CHARACTERS });
    expect(await column("select to_regclass('public.attack_vector')")).toEqual([null]);
  });

  it("special characters: a hyphenated and a mixed-case queue work end to end", async () => {
    for (const name of ["queue-hyphened", "QueueCased"]) {
      await client.query("select pgmq.create($1)", [name]);
      expect(ids(await column(`select pgmq.send($1, '{"hello":"world"}')`, [name]))).toEqual([1]);
      expect(await rows("select msg_id, read_ct, message from pgmq.read($1, 1, 1)", [name])).toEqual([
        { msg_id: "1", read_ct: 1, message: { hello: "world" } },
      ]);
      expect(await column("select pgmq.archive($1, 1::bigint)", [name])).toEqual([true]);
    }
    expect(
      await column(
        `select tablename from pg_tables where schemaname = 'pgmq'
             and tablename in ('q_queue-hyphened', 'q_queuecased') order by tablename`,
      ),
    ).toEqual(["q_queue-hyphened", "q_queuecased"]);
  });
});
