import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, devstackInfo, type TestDatabase } from "../src/testing.ts";

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

async function tableExists(table: string): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>("select to_regclass($1) is not null as found", [
    `pgmq.${table}`,
  ]);
  return rows[0]?.found === true;
}

async function metaRows(queue: string) {
  const { rows } = await client.query<{ queue_name: string; is_partitioned: boolean; is_unlogged: boolean }>(
    "select queue_name, is_partitioned, is_unlogged from pgmq.meta where queue_name = $1",
    [queue],
  );
  return rows;
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

/** The SQLSTATE a statement fails with, or undefined when it succeeds. */
async function errorCode(sql: string, values: unknown[] = []): Promise<string | undefined> {
  try {
    await client.query(sql, values);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe("pgmq queue management", () => {
  it("create makes the queue table, its archive and one meta row, and is idempotent", async () => {
    await client.query("select pgmq.create('orders')");
    await client.query("select pgmq.create('orders')");
    expect(await tableExists("q_orders")).toBe(true);
    expect(await tableExists("a_orders")).toBe(true);
    expect(await metaRows("orders")).toEqual([
      { queue_name: "orders", is_partitioned: false, is_unlogged: false },
    ]);
  });

  it("create_unlogged makes an unlogged queue table and records it in meta", async () => {
    await client.query("select pgmq.create_unlogged('fast_lane')");
    const { rows } = await client.query<{ relname: string; relpersistence: string }>(
      `select relname, relpersistence from pg_class
       where relnamespace = 'pgmq'::regnamespace and relname in ('q_fast_lane', 'a_fast_lane')
       order by relname`,
    );
    expect(rows).toEqual([
      { relname: "a_fast_lane", relpersistence: "p" },
      { relname: "q_fast_lane", relpersistence: "u" },
    ]);
    expect(await metaRows("fast_lane")).toEqual([
      { queue_name: "fast_lane", is_partitioned: false, is_unlogged: true },
    ]);
  });

  it("list_queues returns each queue with its flags and creation time", async () => {
    await client.query("select pgmq.create('listed_a')");
    await client.query("select pgmq.create_unlogged('listed_b')");
    const { rows } = await client.query<{
      queue_name: string;
      is_partitioned: boolean;
      is_unlogged: boolean;
      created_at: Date;
    }>("select * from pgmq.list_queues() where queue_name like 'listed_%' order by queue_name");
    expect(
      rows.map(({ queue_name, is_partitioned, is_unlogged }) => ({
        queue_name,
        is_partitioned,
        is_unlogged,
      })),
    ).toEqual([
      { queue_name: "listed_a", is_partitioned: false, is_unlogged: false },
      { queue_name: "listed_b", is_partitioned: false, is_unlogged: true },
    ]);
    for (const row of rows) expect(row.created_at).toBeInstanceOf(Date);
  });

  it("purge_queue deletes every queued message, returns the count and leaves the archive alone", async () => {
    await client.query("select pgmq.create('purged')");
    await client.query(
      `select pgmq.send_batch('purged', array['{"n":1}','{"n":2}','{"n":3}','{"n":4}']::jsonb[])`,
    );
    await client.query("select pgmq.archive('purged', 1::bigint)");
    const { rows } = await client.query<{ purged: string }>("select pgmq.purge_queue('purged') as purged");
    expect(rows[0]?.purged).toBe("3");
    const counts = await client.query<{ queued: number; archived: number }>(
      "select (select count(*)::int from pgmq.q_purged) as queued, (select count(*)::int from pgmq.a_purged) as archived",
    );
    expect(counts.rows[0]).toEqual({ queued: 0, archived: 1 });
    const again = await client.query<{ purged: string }>("select pgmq.purge_queue('purged') as purged");
    expect(again.rows[0]?.purged).toBe("0");
  });

  it("drop_queue removes the queue table, the archive table and the meta row", async () => {
    await client.query("select pgmq.create('dropped')");
    await client.query(`select pgmq.send('dropped', '{"bye":true}')`);
    const { rows } = await client.query<{ dropped: boolean }>("select pgmq.drop_queue('dropped') as dropped");
    expect(rows[0]?.dropped).toBe(true);
    expect(await tableExists("q_dropped")).toBe(false);
    expect(await tableExists("a_dropped")).toBe(false);
    expect(await metaRows("dropped")).toEqual([]);
    const listed = await client.query("select * from pgmq.list_queues() where queue_name = 'dropped'");
    expect(listed.rowCount).toBe(0);
  });

  it("drop_queue of a missing queue behaves like the installed pgmq (1.5.1: undefined_table error)", async () => {
    const { rows } = await client.query<{ version: string | null }>(
      "select (select extversion from pg_extension where extname = 'pgmq') as version",
    );
    const version = rows[0]?.version ?? null;
    if (version === null || version === "1.5.0" || version === "1.5.1") {
      expect(await errorCode("select pgmq.drop_queue('never_created')")).toBe("42P01");
    } else {
      const dropped = await client.query<{ dropped: boolean }>(
        "select pgmq.drop_queue('never_created') as dropped",
      );
      expect(dropped.rows[0]?.dropped).toBe(false);
    }
  });

  it("accepts every name pgmq 1.5.1 accepts: upper case, hyphens, spaces, dots, 47 characters", async () => {
    const names = ["Orders", "my-queue", "a b", "dot.ted", "ünïcode", "MiXed-Case_42", "q".repeat(47)];
    for (const name of names) {
      expect(
        await errorCode("select pgmq.create($1)", [name]),
        `create(${JSON.stringify(name)})`,
      ).toBeUndefined();
      expect(await errorCode(`select pgmq.send($1, '{"ok":true}')`, [name])).toBeUndefined();
      const { rows } = await client.query<{ message: unknown }>("select message from pgmq.read($1, 30, 5)", [
        name,
      ]);
      expect(rows, name).toEqual([{ message: { ok: true } }]);
    }
    // tables are named in lower case; the queue keeps its name
    expect(await tableExists("q_orders")).toBe(true);
    expect(await tableExists('"q_my-queue"')).toBe(true);
    expect(await metaRows("MiXed-Case_42")).toEqual([
      { queue_name: "MiXed-Case_42", is_partitioned: false, is_unlogged: false },
    ]);
  });

  it("refuses $, ;, ' and -- in every function with pgmq's text, before touching any table", async () => {
    const calls = [
      "select pgmq.create($1)",
      "select pgmq.create_unlogged($1)",
      "select pgmq.create_partitioned($1)",
      `select pgmq.send($1, '{}')`,
      "select pgmq.send_batch($1, array['{}']::jsonb[])",
      "select * from pgmq.read($1, 30, 1)",
      "select * from pgmq.read_with_poll($1, 30, 1, 1)",
      "select * from pgmq.pop($1)",
      "select * from pgmq.set_vt($1, 1, 0)",
      "select pgmq.archive($1, 1::bigint)",
      "select pgmq.delete($1, 1::bigint)",
      "select pgmq.purge_queue($1)",
      "select * from pgmq.metrics($1)",
      "select pgmq.drop_queue($1)",
    ];
    // the last name is also too long: the character check comes first, as in pgmq
    for (const name of [
      "x;drop table pgmq.meta",
      "quote'd",
      "dollar$",
      "double--dash",
      `${"a".repeat(50)};`,
    ]) {
      for (const call of calls) {
        expect(await failure(call, [name]), `${call} with ${JSON.stringify(name)}`).toEqual({
          code: "P0001",
          message: "queue name contains invalid characters: $, ;, --, or \\'",
        });
      }
    }
    expect(await tableExists("meta")).toBe(true);
  });

  it("refuses to create a queue of 48 characters with pgmq's text; other functions find no such queue", async () => {
    for (const call of [
      "select pgmq.create($1)",
      "select pgmq.create_unlogged($1)",
      "select pgmq.create_partitioned($1)",
    ]) {
      expect(await failure(call, ["q".repeat(48)]), call).toEqual({
        code: "P0001",
        message: "queue name is too long, maximum length is 48 characters",
      });
    }
    expect(await tableExists(`q_${"q".repeat(48)}`)).toBe(false);
    expect(await errorCode(`select pgmq.send($1, '{}')`, ["q".repeat(48)])).toBe("42P01");
  });

  it("fails with undefined_table when sending to, reading from or measuring a queue that does not exist", async () => {
    expect(await errorCode(`select pgmq.send('no_such_queue', '{"lost":true}')`)).toBe("42P01");
    expect(await errorCode(`select pgmq.send_batch('no_such_queue', array['{}']::jsonb[])`)).toBe("42P01");
    expect(await errorCode("select * from pgmq.read('no_such_queue', 30, 1)")).toBe("42P01");
    expect(await errorCode("select * from pgmq.pop('no_such_queue')")).toBe("42P01");
    expect(await errorCode("select pgmq.archive('no_such_queue', 1::bigint)")).toBe("42P01");
    expect(await errorCode("select * from pgmq.metrics('no_such_queue')")).toBe("42P01");
  });

  it.skipIf(!compat)(
    "refuses partitioned queues and archives locally with feature_not_supported",
    async () => {
      expect(await errorCode("select pgmq.create_partitioned('parted')")).toBe("0A000");
      expect(await tableExists("q_parted")).toBe(false);
      await client.query("select pgmq.create('unparted')");
      expect(await errorCode("select pgmq.convert_archive_partitioned('unparted')")).toBe("0A000");
    },
  );

  it.skipIf(!compat)(
    "detach_archive succeeds for an existing queue and fails with undefined_table without",
    async () => {
      await client.query("select pgmq.create('detached')");
      expect(await errorCode("select pgmq.detach_archive('detached')")).toBeUndefined();
      expect(await errorCode("select pgmq.detach_archive('never_created')")).toBe("42P01");
    },
  );

  it("drop_queue(name, partitioned), deprecated in 1.5.1, warns with pgmq's text and drops the queue", async () => {
    const warnings: string[] = [];
    const onNotice = (notice: { severity?: string | undefined; message?: string | undefined }) => {
      if (notice.severity === "WARNING") warnings.push(notice.message ?? "");
    };
    client.on("notice", onNotice);
    try {
      await client.query("select pgmq.create('old_style_drop')");
      const { rows } = await client.query<{ dropped: boolean }>(
        "select pgmq.drop_queue('old_style_drop', false) as dropped",
      );
      expect(rows).toEqual([{ dropped: true }]);
    } finally {
      client.off("notice", onNotice);
    }
    expect(warnings).toEqual([
      "drop_queue(queue_name, partitioned) is deprecated and will be removed in PGMQ v2.0. Use drop_queue(queue_name) instead.",
    ]);
    expect(await tableExists("q_old_style_drop")).toBe(false);
    expect(await metaRows("old_style_drop")).toEqual([]);
  });
});
