import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

const MESSAGES = 500;
const READERS = 8;

let db: TestDatabase;
let clients: pg.Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase("platform");
  clients = Array.from({ length: READERS }, () => new pg.Client({ connectionString: db.url }));
  await Promise.all(clients.map((client) => client.connect()));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
  await db?.drop();
});

/** One consumer: reads small batches with a long vt until a read comes back empty. */
async function drain(client: pg.Client, queue: string, sql: string): Promise<number[]> {
  const got: number[] = [];
  for (;;) {
    const { rows } = await client.query<{ msg_id: string }>(sql, [queue]);
    if (rows.length === 0) return got;
    got.push(...rows.map((row) => Number(row.msg_id)));
  }
}

async function fill(queue: string): Promise<number[]> {
  const [first] = clients;
  await first!.query("select pgmq.create($1)", [queue]);
  const { rows } = await first!.query<{ id: string }>(
    "select id from pgmq.send_batch($1, array(select jsonb_build_object('n', i) from generate_series(1, $2::int) i)) as id",
    [queue, MESSAGES],
  );
  return rows.map((row) => Number(row.id));
}

function duplicates(ids: number[]): number[] {
  const seen = new Set<number>();
  const repeated: number[] = [];
  for (const id of ids) {
    if (seen.has(id)) repeated.push(id);
    seen.add(id);
  }
  return repeated;
}

describe("pgmq with concurrent readers", () => {
  it(`${READERS} readers on separate connections never receive the same message and together receive all ${MESSAGES}`, async () => {
    const sent = await fill("contended");
    const perReader = await Promise.all(
      clients.map((client) => drain(client, "contended", "select msg_id from pgmq.read($1, 300, 3)")),
    );
    const all = perReader.flat();
    expect(duplicates(all)).toEqual([]);
    expect([...all].sort((a, b) => a - b)).toEqual(sent);
    expect(perReader.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);

    const { rows } = await clients[0]!.query<{ read_once: number; total: number }>(
      "select count(*) filter (where read_ct = 1)::int as read_once, count(*)::int as total from pgmq.q_contended",
    );
    expect(rows[0]).toEqual({ read_once: MESSAGES, total: MESSAGES });
  });

  it(`${READERS} concurrent pop loops never return the same message and empty the queue`, async () => {
    const sent = await fill("popped_concurrently");
    const perReader = await Promise.all(
      clients.map((client) => drain(client, "popped_concurrently", "select msg_id from pgmq.pop($1)")),
    );
    const all = perReader.flat();
    expect(duplicates(all)).toEqual([]);
    expect([...all].sort((a, b) => a - b)).toEqual(sent);
    const { rows } = await clients[0]!.query<{ n: number }>(
      "select count(*)::int as n from pgmq.q_popped_concurrently",
    );
    expect(rows[0]?.n).toBe(0);
  });
});
