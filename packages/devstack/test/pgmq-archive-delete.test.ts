import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

interface MessageRow {
  msg_id: string;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  message: unknown;
  headers: unknown;
}

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

/** Creates a queue holding messages {"n":1}..{"n":count}; returns their ids. */
async function queueWith(name: string, count: number): Promise<number[]> {
  await client.query("select pgmq.create($1)", [name]);
  const { rows } = await client.query<{ id: string }>(
    "select id from pgmq.send_batch($1, array(select jsonb_build_object('n', i) from generate_series(1, $2::int) i)) as id",
    [name, count],
  );
  return rows.map((row) => Number(row.id));
}

async function queuedIds(table: string): Promise<number[]> {
  const { rows } = await client.query<{ id: string }>(
    `select msg_id as id from pgmq.${table} order by msg_id`,
  );
  return rows.map((row) => Number(row.id));
}

async function read(queue: string, vt: number, qty: number): Promise<MessageRow[]> {
  return (
    await client.query<MessageRow>("select * from pgmq.read($1, $2::integer, $3::integer)", [queue, vt, qty])
  ).rows;
}

describe("pgmq pop, archive, delete and set_vt", () => {
  it("pop returns the oldest visible message and deletes it", async () => {
    await queueWith("popped", 3);
    await read("popped", 60, 1); // msg 1 is now invisible
    const { rows } = await client.query<MessageRow>("select * from pgmq.pop('popped')");
    expect(rows.map((row) => [Number(row.msg_id), row.message, row.read_ct])).toEqual([[2, { n: 2 }, 0]]);
    expect(await queuedIds("q_popped")).toEqual([1, 3]);
    expect(await queuedIds("a_popped")).toEqual([]);
    await client.query("select * from pgmq.pop('popped')");
    const empty = await client.query("select * from pgmq.pop('popped')");
    expect(empty.rows).toEqual([]);
  });

  it("archive(msg_id) moves the message with its data and an archived_at, and reports whether it did", async () => {
    await queueWith("archived_one", 2);
    await client.query("select pgmq.send('archived_one', '{\"n\":3}'::jsonb, '{\"trace\":\"t-1\"}'::jsonb)");
    const [read1] = await read("archived_one", 60, 1);
    const before = await client.query<{ now: Date }>("select now() as now");
    const moved = await client.query<{ a: boolean; b: boolean; missing: boolean }>(
      "select pgmq.archive('archived_one', 1::bigint) as a, pgmq.archive('archived_one', 3::bigint) as b, pgmq.archive('archived_one', 999::bigint) as missing",
    );
    expect(moved.rows[0]).toEqual({ a: true, b: true, missing: false });
    expect(await queuedIds("q_archived_one")).toEqual([2]);

    const { rows } = await client.query<MessageRow & { archived_at: Date }>(
      "select * from pgmq.a_archived_one order by msg_id",
    );
    expect(rows.map((row) => [Number(row.msg_id), row.read_ct, row.message, row.headers])).toEqual([
      [1, 1, { n: 1 }, null],
      [3, 0, { n: 3 }, { trace: "t-1" }],
    ]);
    expect(rows[0]?.enqueued_at).toEqual(read1?.enqueued_at);
    expect(rows[0]?.vt).toEqual(read1?.vt);
    for (const row of rows)
      expect(row.archived_at.getTime()).toBeGreaterThanOrEqual(before.rows[0]!.now.getTime());
  });

  it("archive(msg_ids[]) moves the listed messages and returns the ids it moved", async () => {
    const sent = await queueWith("archived_many", 5);
    const { rows } = await client.query<{ id: string }>(
      "select id from pgmq.archive('archived_many', array[2, 4, 42]::bigint[]) as id",
    );
    expect(rows.map((row) => Number(row.id)).sort((a, b) => a - b)).toEqual([2, 4]);
    expect(await queuedIds("q_archived_many")).toEqual([sent[0], sent[2], sent[4]]);
    expect(await queuedIds("a_archived_many")).toEqual([2, 4]);
  });

  it("delete(msg_id) removes a message for good and reports whether it did", async () => {
    await queueWith("deleted_one", 2);
    const { rows } = await client.query<{ hit: boolean; miss: boolean }>(
      "select pgmq.delete('deleted_one', 1::bigint) as hit, pgmq.delete('deleted_one', 1::bigint) as miss",
    );
    expect(rows[0]).toEqual({ hit: true, miss: false });
    expect(await queuedIds("q_deleted_one")).toEqual([2]);
    expect(await queuedIds("a_deleted_one")).toEqual([]);
  });

  it("delete(msg_ids[]) removes the listed messages and returns the ids it removed", async () => {
    await queueWith("deleted_many", 4);
    const { rows } = await client.query<{ id: string }>(
      "select id from pgmq.delete('deleted_many', array[1, 3, 77]::bigint[]) as id",
    );
    expect(rows.map((row) => Number(row.id)).sort((a, b) => a - b)).toEqual([1, 3]);
    expect(await queuedIds("q_deleted_many")).toEqual([2, 4]);
    expect(await queuedIds("a_deleted_many")).toEqual([]);
  });

  it("set_vt moves the visibility time to vt seconds from now and returns the message", async () => {
    await queueWith("set_vt", 2);
    const { rows } = await client.query<MessageRow>("select * from pgmq.set_vt('set_vt', 1::bigint, 120)");
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect([Number(row.msg_id), row.message, row.read_ct]).toEqual([1, { n: 1 }, 0]);
    const seconds = (row.vt.getTime() - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(115);
    expect(seconds).toBeLessThanOrEqual(121);
    expect((await read("set_vt", 30, 10)).map((m) => Number(m.msg_id))).toEqual([2]);

    // back to visible now (a retry without backoff), and a missing id gives no row
    await client.query("select * from pgmq.set_vt('set_vt', 1::bigint, 0)");
    expect((await read("set_vt", 30, 10)).map((m) => Number(m.msg_id))).toEqual([1]);
    const missing = await client.query("select * from pgmq.set_vt('set_vt', 999::bigint, 10)");
    expect(missing.rows).toEqual([]);
  });

  it("makes a message whose visibility timeout expired readable again, with read_ct 2", async () => {
    await queueWith("expired_vt", 1);
    const [first] = await read("expired_vt", 1, 1);
    expect(first?.read_ct).toBe(1);
    expect(await read("expired_vt", 1, 1)).toEqual([]);
    const deadline = Date.now() + 10_000;
    let again: MessageRow[] = [];
    while (again.length === 0 && Date.now() < deadline) {
      again = await read("expired_vt", 30, 1);
      if (again.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(again.map((row) => [Number(row.msg_id), row.read_ct, row.message])).toEqual([
      [Number(first!.msg_id), 2, { n: 1 }],
    ]);
    expect(Date.now()).toBeGreaterThanOrEqual(first!.vt.getTime());
  });
});
