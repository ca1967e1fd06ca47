import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

interface MetricsRow {
  queue_name: string;
  queue_length: string;
  newest_msg_age_sec: number | null;
  oldest_msg_age_sec: number | null;
  total_messages: string;
  scrape_time: Date;
  queue_visible_length: string;
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

async function metrics(queue: string): Promise<MetricsRow> {
  const { rows } = await client.query<MetricsRow>("select * from pgmq.metrics($1)", [queue]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** The counters of a metrics row as numbers, for compact assertions. */
function counts(row: MetricsRow) {
  return {
    queue_length: Number(row.queue_length),
    queue_visible_length: Number(row.queue_visible_length),
    total_messages: Number(row.total_messages),
  };
}

describe("pgmq metrics", () => {
  it("reports an empty new queue with zero counts and no ages", async () => {
    await client.query("select pgmq.create('metrics_empty')");
    const row = await metrics("metrics_empty");
    expect(row.queue_name).toBe("metrics_empty");
    expect(counts(row)).toEqual({ queue_length: 0, queue_visible_length: 0, total_messages: 0 });
    expect(row.newest_msg_age_sec).toBeNull();
    expect(row.oldest_msg_age_sec).toBeNull();
    expect(row.scrape_time).toBeInstanceOf(Date);
  });

  it("counts queued, visible and ever-sent messages through sends, reads, archives and deletes", async () => {
    await client.query("select pgmq.create('metrics_counts')");
    await client.query(
      "select pgmq.send_batch('metrics_counts', array(select jsonb_build_object('n', i) from generate_series(1, 5) i))",
    );
    await client.query(`select pgmq.send('metrics_counts', '{"n":6}'::jsonb, 3600)`);
    expect(counts(await metrics("metrics_counts"))).toEqual({
      queue_length: 6,
      queue_visible_length: 5,
      total_messages: 6,
    });

    await client.query("select * from pgmq.read('metrics_counts', 600, 2)");
    expect(counts(await metrics("metrics_counts"))).toEqual({
      queue_length: 6,
      queue_visible_length: 3,
      total_messages: 6,
    });

    await client.query("select pgmq.archive('metrics_counts', array[1, 2]::bigint[])");
    await client.query("select pgmq.delete('metrics_counts', 3::bigint)");
    expect(counts(await metrics("metrics_counts"))).toEqual({
      queue_length: 3,
      queue_visible_length: 2,
      total_messages: 6,
    });

    await client.query("select pgmq.purge_queue('metrics_counts')");
    expect(counts(await metrics("metrics_counts"))).toEqual({
      queue_length: 0,
      queue_visible_length: 0,
      total_messages: 6,
    });
  });

  it("reports the age in seconds of the newest and the oldest message", async () => {
    await client.query("select pgmq.create('metrics_ages')");
    await client.query(
      "select pgmq.send_batch('metrics_ages', array['{\"n\":1}','{\"n\":2}','{\"n\":3}']::jsonb[])",
    );
    // backdate enqueued_at instead of waiting: message 1 is 2 minutes old, message 2 is 30 s old
    await client.query(
      "update pgmq.q_metrics_ages set enqueued_at = now() - interval '120 seconds' where msg_id = 1",
    );
    await client.query(
      "update pgmq.q_metrics_ages set enqueued_at = now() - interval '30 seconds' where msg_id = 2",
    );
    const row = await metrics("metrics_ages");
    expect(row.oldest_msg_age_sec).toBeGreaterThanOrEqual(120);
    expect(row.oldest_msg_age_sec).toBeLessThanOrEqual(121);
    expect(row.newest_msg_age_sec).toBeGreaterThanOrEqual(0);
    expect(row.newest_msg_age_sec).toBeLessThanOrEqual(1);

    await client.query("select pgmq.delete('metrics_ages', 3::bigint)");
    const later = await metrics("metrics_ages");
    expect(later.newest_msg_age_sec).toBeGreaterThanOrEqual(30);
    expect(later.newest_msg_age_sec).toBeLessThanOrEqual(31);
  });

  it("metrics_all returns one row per queue, each equal to metrics() of that queue", async () => {
    await client.query("select pgmq.create('metrics_all_a')");
    await client.query("select pgmq.create_unlogged('metrics_all_b')");
    await client.query(`select pgmq.send('metrics_all_a', '{"n":1}')`);
    await client.query(`select pgmq.send_batch('metrics_all_b', array['{"n":1}','{"n":2}']::jsonb[])`);

    const { rows } = await client.query<MetricsRow>("select * from pgmq.metrics_all()");
    const queues = (await client.query<{ queue_name: string }>("select queue_name from pgmq.list_queues()"))
      .rows;
    expect(rows.map((row) => row.queue_name).sort()).toEqual(queues.map((q) => q.queue_name).sort());

    const byName = new Map(rows.map((row) => [row.queue_name, row]));
    expect(counts(byName.get("metrics_all_a")!)).toEqual({
      queue_length: 1,
      queue_visible_length: 1,
      total_messages: 1,
    });
    expect(counts(byName.get("metrics_all_b")!)).toEqual({
      queue_length: 2,
      queue_visible_length: 2,
      total_messages: 2,
    });
  });
});
