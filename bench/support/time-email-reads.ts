// What one read of the email consumer costs PostgreSQL with a backlog: the high-priority read
// (`pgmq.read(…, conditional => {"priority": 1})`, which QueueConsumer issues before every email_queue
// read) against the plain read, with N normal-priority emails waiting. A measurement aid for
// bench/RESULTS.md.
//
//   cd bench && node --import tsx support/time-email-reads.ts [--backlog 10000] [--partial-index]
//
// --partial-index first creates `create index on pgmq.q_email_queue (msg_id) where message @>
// '{"priority": 1}'` (a PROTOTYPE of a migration), to see whether the conditional read uses it.
import { parseArgs } from "node:util";
import pg from "pg";
import { emailMessage } from "../../apps/worker/test/support/domain.ts";
import { summarize } from "./latency-stats.ts";
import { startThrowawayPostgres } from "./throwaway-postgres.ts";

const { values } = parseArgs({
  options: {
    backlog: { type: "string", default: "10000" },
    "partial-index": { type: "boolean", default: false },
  },
});
const backlog = Number(values.backlog);
const postgres = await startThrowawayPostgres("durable");
try {
  const { url } = await postgres.createAppDatabase("bench_reads");
  const db = new pg.Pool({ connectionString: url, max: 1 });
  for (let start = 0; start < backlog; start += 1000) {
    const chunk = Array.from({ length: Math.min(1000, backlog - start) }, (_, index) =>
      JSON.stringify(emailMessage(`user-${start + index}@example.com`, `read-${start + index}`)),
    );
    await db.query("select pgmq.send_batch('email_queue', $1::jsonb[])", [chunk]);
  }
  if (values["partial-index"]) {
    await db.query(
      `create index q_email_queue_high_priority on pgmq.q_email_queue (msg_id) where message @> '{"priority": 1}'`,
    );
  }
  await db.query("vacuum analyze pgmq.q_email_queue");
  const time = async (label: string, sql: string) => {
    const samples: number[] = [];
    for (let run = 0; run < 30; run += 1) {
      const client = await db.connect();
      try {
        await client.query("begin");
        const started = performance.now();
        await client.query(sql);
        samples.push(performance.now() - started);
        await client.query("rollback"); // the read hides rows: undo it so every run sees the same queue
      } finally {
        client.release();
      }
    }
    const stats = summarize(samples.slice(5));
    console.log(`| ${label} | ${stats.p50.toFixed(2)} | ${stats.p95.toFixed(2)} |`);
  };
  console.log(
    `${postgres.description}; ${backlog} normal-priority emails waiting${values["partial-index"] ? "; with the partial index" : ""}\n`,
  );
  console.log("| statement | ms p50 | ms p95 |\n| --- | ---: | ---: |");
  await time(
    'high-priority read, 32 (conditional {"priority":1})',
    `select * from pgmq.read('email_queue', 60, 32, '{"priority":1}')`,
  );
  await time("high-priority read, 1", `select * from pgmq.read('email_queue', 60, 1, '{"priority":1}')`);
  await time("plain read, 32", "select * from pgmq.read('email_queue', 60, 32)");
  await time("plain read, 1", "select * from pgmq.read('email_queue', 60, 1)");
  await db.end();
} finally {
  await postgres.stop();
}
