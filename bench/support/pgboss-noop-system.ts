// pg-boss 12 (insert / send / work) with a no-op handler, in its own database, with batch fetching:
// each of `localConcurrency` workers fetches up to `batchSize` jobs per query and completes them
// together; a full batch fetches again at once (burstWhenBatchFull); LISTEN/NOTIFY wakes idle workers.
import { PgBoss } from "pg-boss";
import { packageVersion } from "./package-version.ts";
import type { NoopQueueSystem } from "./queue-system.ts";

const QUEUE = "noop";
const BULK_CHUNK = 1000;
/** pg-boss refuses a polling interval under 0.5 s. */
const POLLING_INTERVAL_SECONDS = 0.5;

export interface PgBossNoopOptions {
  /** An empty database (pg-boss installs its schema there). */
  readonly url: string;
  /** Jobs fetched per query by each worker. */
  readonly batchSize: number;
  /** Workers (fetch loops) in this process. */
  readonly localConcurrency: number;
  /** Node-postgres pool size. */
  readonly max: number;
}

export async function pgBossNoopSystem(options: PgBossNoopOptions): Promise<NoopQueueSystem> {
  const boss = new PgBoss({
    connectionString: options.url,
    max: options.max,
    schedule: false,
    useListenNotify: true,
  });
  const errors: unknown[] = [];
  boss.on("error", (error) => errors.push(error));
  await boss.start();
  await boss.createQueue(QUEUE, { notify: true });
  return {
    name: `pg-boss ${packageVersion("pg-boss")} (batch ${options.batchSize})`,
    settings: `work({ batchSize: ${options.batchSize}, localConcurrency: ${options.localConcurrency}, pollingIntervalSeconds: ${POLLING_INTERVAL_SECONDS} (the minimum), burstWhenBatchFull: true }), useListenNotify + queue notify, pool max ${options.max}, schedule off`,
    async enqueueBulk(keys) {
      for (let start = 0; start < keys.length; start += BULK_CHUNK) {
        await boss.insert(
          QUEUE,
          keys.slice(start, start + BULK_CHUNK).map((key) => ({ data: { key } })),
        );
      }
    },
    async start(onHandle) {
      await boss.work<{ key: string }>(
        QUEUE,
        {
          batchSize: options.batchSize,
          localConcurrency: options.localConcurrency,
          pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
          burstWhenBatchFull: true,
        },
        async (jobs) => {
          for (const job of jobs) onHandle(job.data.key);
        },
      );
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
      await boss.deleteQueuedJobs(QUEUE);
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 10_000 });
    },
  };
}
