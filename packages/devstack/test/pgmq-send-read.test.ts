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

async function createQueue(name: string): Promise<string> {
  await client.query("select pgmq.create($1)", [name]);
  return name;
}

/** Runs a statement returning setof bigint (send, send_batch, archive, delete) and gives the ids. */
async function ids(sql: string, values: unknown[] = []): Promise<number[]> {
  const { rows } = await client.query<{ id: string }>(`select id from ${sql} as id`, values);
  return rows.map((row) => Number(row.id));
}

async function read(queue: string, vt: number, qty: number, conditional?: object): Promise<MessageRow[]> {
  const { rows } =
    conditional === undefined
      ? await client.query<MessageRow>("select * from pgmq.read($1, $2::integer, $3::integer)", [
          queue,
          vt,
          qty,
        ])
      : await client.query<MessageRow>("select * from pgmq.read($1, $2::integer, $3::integer, $4::jsonb)", [
          queue,
          vt,
          qty,
          JSON.stringify(conditional),
        ]);
  return rows;
}

/** Waits (up to a deadline) until probe() returns rows; never sleeps blindly. */
async function eventually<T>(probe: () => Promise<T[]>, timeoutMs = 10_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await probe();
    if (rows.length > 0) return rows;
    if (Date.now() > deadline) throw new Error(`nothing became readable within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("pgmq send and read", () => {
  it("send accepts every 1.5.1 overload and stores message, headers and visibility time", async () => {
    const q = await createQueue("send_overloads");
    const sent = [
      ...(await ids(`pgmq.send('send_overloads', '{"v":1}'::jsonb)`)),
      ...(await ids(`pgmq.send('send_overloads', '{"v":2}'::jsonb, '{"h":2}'::jsonb)`)),
      ...(await ids(`pgmq.send('send_overloads', '{"v":3}'::jsonb, 0)`)),
      ...(await ids(`pgmq.send('send_overloads', '{"v":4}'::jsonb, now() - interval '1 second')`)),
      ...(await ids(`pgmq.send('send_overloads', '{"v":5}'::jsonb, '{"h":5}'::jsonb, 0)`)),
      ...(await ids(`pgmq.send('send_overloads', '{"v":6}'::jsonb, '{"h":6}'::jsonb, now())`)),
    ];
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
    const rows = await read(q, 30, 10);
    expect(rows.map((row) => [Number(row.msg_id), row.message, row.headers])).toEqual([
      [1, { v: 1 }, null],
      [2, { v: 2 }, { h: 2 }],
      [3, { v: 3 }, null],
      [4, { v: 4 }, null],
      [5, { v: 5 }, { h: 5 }],
      [6, { v: 6 }, { h: 6 }],
    ]);
  });

  it("send_batch accepts every 1.5.1 overload and returns ids in message order", async () => {
    const q = await createQueue("batch_overloads");
    const msgs = (a: number, b: number) => `array['{"v":${a}}', '{"v":${b}}']::jsonb[]`;
    const heads = (a: number) => `array['{"h":${a}}']::jsonb[]`;
    const batches = [
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(1, 2)})`),
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(3, 4)}, ${heads(3)})`),
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(5, 6)}, 0)`),
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(7, 8)}, now())`),
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(9, 10)}, ${heads(9)}, 0)`),
      await ids(`pgmq.send_batch('batch_overloads', ${msgs(11, 12)}, ${heads(11)}, now())`),
    ];
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
      [11, 12],
    ]);
    const rows = await read(q, 30, 20);
    expect(rows.map((row) => [Number(row.msg_id), row.message, row.headers])).toEqual([
      [1, { v: 1 }, null],
      [2, { v: 2 }, null],
      [3, { v: 3 }, { h: 3 }],
      [4, { v: 4 }, null],
      [5, { v: 5 }, null],
      [6, { v: 6 }, null],
      [7, { v: 7 }, null],
      [8, { v: 8 }, null],
      [9, { v: 9 }, { h: 9 }],
      [10, { v: 10 }, null],
      [11, { v: 11 }, { h: 11 }],
      [12, { v: 12 }, null],
    ]);
  });

  it("reads messages in FIFO order by msg_id, one batch after another", async () => {
    const q = await createQueue("fifo");
    const sent = await ids(
      `pgmq.send_batch('fifo', array(select jsonb_build_object('n', i) from generate_series(1, 10) i))`,
    );
    const order: number[] = [];
    for (let i = 0; i < 3; i++) order.push(...(await read(q, 60, 1)).map((row) => Number(row.msg_id)));
    const batch = (await read(q, 60, 4)).map((row) => Number(row.msg_id));
    order.push(...[...batch].sort((a, b) => a - b));
    expect(order).toEqual(sent.slice(0, 7));
    expect((await read(q, 60, 100)).map((row) => Number(row.msg_id)).sort((a, b) => a - b)).toEqual(
      sent.slice(7),
    );
  });

  it("hides a message sent with an integer delay until the delay has passed", async () => {
    const q = await createQueue("delay_int");
    const [id] = await ids(`pgmq.send('delay_int', '{"later":true}'::jsonb, 1)`);
    expect(await read(q, 30, 10)).toEqual([]);
    const rows = await eventually(() => read(q, 30, 10));
    expect(rows.map((row) => Number(row.msg_id))).toEqual([id]);
    const first = rows[0]!;
    expect(Date.now() - first.enqueued_at.getTime()).toBeGreaterThanOrEqual(900);
  });

  it("hides a message sent with a timestamptz delay until that time, and shows a past one at once", async () => {
    const q = await createQueue("delay_ts");
    await ids(`pgmq.send('delay_ts', '{"when":"past"}'::jsonb, now() - interval '1 minute')`);
    await ids(`pgmq.send('delay_ts', '{"when":"soon"}'::jsonb, clock_timestamp() + interval '1 second')`);
    await ids(`pgmq.send('delay_ts', '{"when":"tomorrow"}'::jsonb, now() + interval '1 day')`);
    expect((await read(q, 30, 10)).map((row) => row.message)).toEqual([{ when: "past" }]);
    const soon = await eventually(() => read(q, 30, 10));
    expect(soon.map((row) => row.message)).toEqual([{ when: "soon" }]);
    expect(await read(q, 30, 10)).toEqual([]);
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pgmq.q_delay_ts");
    expect(rows[0]?.n).toBe(3);
  });

  it("hides a read message for vt seconds and counts every read in read_ct", async () => {
    const q = await createQueue("visibility");
    await ids(`pgmq.send('visibility', '{"x":1}'::jsonb)`);
    const [first] = await read(q, 60, 1);
    expect(first?.read_ct).toBe(1);
    const vtSeconds = (first!.vt.getTime() - Date.now()) / 1000;
    expect(vtSeconds).toBeGreaterThan(55);
    expect(vtSeconds).toBeLessThanOrEqual(61);
    expect(await read(q, 60, 1)).toEqual([]);

    // vt 0 makes it visible again at once: each read counts
    await client.query("select * from pgmq.set_vt('visibility', $1, 0)", [first!.msg_id]);
    const [second] = await read(q, 0, 1);
    const [third] = await read(q, 0, 1);
    expect([second?.read_ct, third?.read_ct]).toEqual([2, 3]);
    expect(third?.message).toEqual({ x: 1 });
  });

  it("reads only messages containing the conditional jsonb, and all of them with '{}'", async () => {
    const q = await createQueue("conditional");
    await ids(
      `pgmq.send_batch('conditional', array['{"kind":"email","to":"a"}', '{"kind":"sms"}', '{"kind":"email","to":"b"}', '{"kind":"push","nested":{"p":1}}']::jsonb[])`,
    );
    const emails = await read(q, 30, 10, { kind: "email" });
    expect(emails.map((row) => row.message)).toEqual([
      { kind: "email", to: "a" },
      { kind: "email", to: "b" },
    ]);
    expect(await read(q, 30, 10, { kind: "fax" })).toEqual([]);
    expect((await read(q, 30, 10, { nested: { p: 1 } })).map((row) => row.message)).toEqual([
      { kind: "push", nested: { p: 1 } },
    ]);
    expect((await read(q, 30, 10, {})).map((row) => row.message)).toEqual([{ kind: "sms" }]);
  });

  it("returns at most qty messages", async () => {
    const q = await createQueue("qty_limit");
    await ids(
      `pgmq.send_batch('qty_limit', array(select jsonb_build_object('n', i) from generate_series(1, 5) i))`,
    );
    expect(await read(q, 30, 2)).toHaveLength(2);
    expect(await read(q, 30, 0)).toHaveLength(0);
    expect(await read(q, 30, 10)).toHaveLength(3);
  });
});
