// pg-boss 10 (send / insert / work) with a no-op handler, in its own database.
import PgBoss from "pg-boss";
import { packageVersion } from "./package-version.ts";
import type { NoopQueueSystem } from "./queue-system.ts";

const QUEUE = "noop";
const BULK_CHUNK = 1000;
/** pg-boss 10 refuses a polling interval under 0.5 s; it has no LISTEN wake-up. */
const POLLING_INTERVAL_SECONDS = 0.5;

export interface PgBossNoopOptions {
  /** An empty database (pg-boss installs its schema there). */
  readonly url: string;
  /** `work()` registrations, each fetching one job at a time: at most this many handlers at once. */
  readonly concurrency: number;
  /** Node-postgres pool size (its default is 10, as ours). */
  readonly max: number;
}

export async function pgBossNoopSystem(options: PgBossNoopOptions): Promise<NoopQueueSystem> {
  const boss = new PgBoss({ connectionString: options.url, max: options.max, schedule: false });
  const errors: unknown[] = [];
  boss.on("error", (error) => errors.push(error));
  await boss.start();
  await boss.createQueue(QUEUE);
  return {
    name: `pg-boss ${packageVersion("pg-boss")}`,
    settings: `${options.concurrency} × work({ batchSize: 1, pollingIntervalSeconds: ${POLLING_INTERVAL_SECONDS} }) (the minimum), pool max ${options.max}, schedule off`,
    async enqueueBulk(keys) {
      for (let start = 0; start < keys.length; start += BULK_CHUNK) {
        await boss.insert(
          keys.slice(start, start + BULK_CHUNK).map((key) => ({ name: QUEUE, data: { key } })),
        );
      }
    },
    async start(onHandle) {
      for (let index = 0; index < options.concurrency; index += 1) {
        await boss.work<{ key: string }>(
          QUEUE,
          { batchSize: 1, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
          async (jobs) => {
            for (const job of jobs) onHandle(job.data.key);
          },
        );
      }
    },
    async sendOne(key) {
      await boss.send(QUEUE, { key });
    },
    async pending() {
      const { rows } = await boss
        .getDb()
        .executeSql("select count(*) as n from pgboss.job where name = $1 and state < 'completed'", [QUEUE]);
      if (errors.length > 0) throw new Error(`pg-boss reported an error: ${String(errors[0])}`);
      return Number((rows[0] as { n: string } | undefined)?.n);
    },
    async purge() {
      await boss.purgeQueue(QUEUE);
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
