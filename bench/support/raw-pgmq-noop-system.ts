// A plain pgmq 1.5 consumer, the floor for any pgmq worker: `loops` loops, each on its own connection,
// of `read_with_poll(qty)` (returns at once when messages are visible, else polls server-side) →
// call the handler for each → `archive(msg_ids[])`. No schema check, no retries, no heartbeat.
import pg from "pg";
import type { NoopQueueSystem } from "./queue-system.ts";

const QUEUE = "payment_processing_queue";
const BULK_CHUNK = 1000;
const POLL_SECONDS = 1;
const POLL_INTERVAL_MS = 10;

export interface RawPgmqNoopOptions {
  /** A database with the platform and the migrations applied (the same queue as ours). */
  readonly url: string;
  readonly loops: number;
  /** Messages per read. */
  readonly qty: number;
}

export function rawPgmqNoopSystem(options: RawPgmqNoopOptions): NoopQueueSystem {
  const producer = new pg.Pool({ connectionString: options.url, max: 4 });
  const consumers = new pg.Pool({ connectionString: options.url, max: options.loops });
  // The cluster is stopped right after the last system: a closing connection may see it go.
  for (const pool of [producer, consumers]) pool.on("error", () => undefined);
  let running = false;
  const loops: Promise<void>[] = [];
  const loop = async (onHandle: (key: string) => void) => {
    const client = await consumers.connect();
    try {
      while (running) {
        const { rows } = await client.query<{ msg_id: string; message: { idempotency_key: string } }>(
          "select msg_id, message from pgmq.read_with_poll($1::text, 30, $2::integer, $3::integer, $4::integer)",
          [QUEUE, options.qty, POLL_SECONDS, POLL_INTERVAL_MS],
        );
        if (rows.length === 0) continue;
        for (const row of rows) onHandle(row.message.idempotency_key);
        await client.query("select pgmq.archive($1::text, $2::bigint[])", [
          QUEUE,
          rows.map((row) => row.msg_id),
        ]);
      }
    } finally {
      client.release();
    }
  };
  return {
    name: "raw pgmq consumer",
    settings: `${options.loops} loops × read_with_poll(qty ${options.qty}, poll every ${POLL_INTERVAL_MS} ms for up to ${POLL_SECONDS} s) + archive(msg_ids[]), one connection each`,
    async enqueueBulk(keys) {
      for (let start = 0; start < keys.length; start += BULK_CHUNK) {
        const messages = keys.slice(start, start + BULK_CHUNK).map((key) =>
          JSON.stringify({
            version: 1,
            idempotency_key: key,
            payment_id: crypto.randomUUID(),
            action: "completed",
          }),
        );
        await producer.query("select pgmq.send_batch($1::text, $2::jsonb[])", [QUEUE, messages]);
      }
    },
    async start(onHandle) {
      running = true;
      for (let index = 0; index < options.loops; index += 1) loops.push(loop(onHandle));
    },
    async sendOne(key) {
      await producer.query("select pgmq.send($1::text, $2::jsonb)", [
        QUEUE,
        JSON.stringify({
          version: 1,
          idempotency_key: key,
          payment_id: crypto.randomUUID(),
          action: "completed",
        }),
      ]);
    },
    async pending() {
      const { rows } = await producer.query<{ n: string }>(`select count(*) as n from pgmq.q_${QUEUE}`);
      return Number(rows[0]?.n);
    },
    async purge() {
      await producer.query("select pgmq.purge_queue($1::text)", [QUEUE]);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      await consumers.end();
      await producer.end();
    },
  };
}
