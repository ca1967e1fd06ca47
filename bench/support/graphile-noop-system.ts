// graphile-worker 0.18 (run + makeWorkerUtils) with a no-op task, in its own database, in its batched
// mode (https://worker.graphile.org/docs/performance#batching): a local queue the pool fills with one
// query, and completions batched.
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import { packageVersion } from "./package-version.ts";
import type { NoopQueueSystem } from "./queue-system.ts";

const TASK = "noop";
const BULK_CHUNK = 2000;

/** graphile-worker logs every completed job at info level; the comparison runs every system silent. */
const silent = new Logger(() => () => undefined);

export interface GraphileNoopOptions {
  /** An empty database (graphile-worker installs its schema there). */
  readonly url: string;
  /** Jobs run at once (graphile's `concurrentJobs`). */
  readonly concurrency: number;
  /** Node-postgres pool size of the runner. */
  readonly maxPoolSize: number;
  /** `localQueue.size`: jobs fetched and locked per query (500 for the batched mode). */
  readonly localQueueSize: number;
  /** `localQueue.refetchDelay.durationMs` after a fetch that came back short. */
  readonly refetchDelayMs: number;
}

export async function graphileNoopSystem(options: GraphileNoopOptions): Promise<NoopQueueSystem> {
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: options.url, logger: silent });
  await utils.migrate();
  let runner: Runner | undefined;
  return {
    name: `graphile-worker ${packageVersion("graphile-worker")} (batched)`,
    settings: `concurrency ${options.concurrency}, localQueue { size ${options.localQueueSize}, refetchDelay ${options.refetchDelayMs} ms }, completeJobBatchDelay 0, failJobBatchDelay 0, pollInterval 2000 ms (default) + LISTEN, maxPoolSize ${options.maxPoolSize}, prepared statements on (default), logger silent`,
    async enqueueBulk(keys) {
      for (let start = 0; start < keys.length; start += BULK_CHUNK) {
        const specs = keys
          .slice(start, start + BULK_CHUNK)
          .map((key) => ({ identifier: TASK, payload: { key } }));
        // graphile_worker.add_jobs(job_spec[]): the bulk form of add_job, one statement per chunk.
        await utils.withPgClient((client) =>
          client.query(
            "select graphile_worker.add_jobs(array(select s from json_populate_recordset(null::graphile_worker.job_spec, $1::json) s))",
            [JSON.stringify(specs)],
          ),
        );
      }
    },
    async start(onHandle) {
      runner = await run({
        connectionString: options.url,
        concurrency: options.concurrency,
        maxPoolSize: options.maxPoolSize,
        noHandleSignals: true,
        logger: silent,
        preset: {
          worker: {
            localQueue: {
              size: options.localQueueSize,
              refetchDelay: { durationMs: options.refetchDelayMs },
            },
            completeJobBatchDelay: 0,
            failJobBatchDelay: 0,
          },
        },
        taskList: {
          [TASK]: async (payload) => {
            onHandle((payload as { key: string }).key);
          },
        },
      });
    },
    async sendOne(key) {
      await utils.addJob(TASK, { key });
    },
    async pending() {
      const count = await utils.withPgClient((client) =>
        client.query<{ n: string }>("select count(*) as n from graphile_worker.jobs"),
      );
      return Number(count.rows[0]?.n);
    },
    async purge() {
      await utils.withPgClient((client) => client.query("delete from graphile_worker._private_jobs"));
    },
    async stop() {
      await runner?.stop();
      await utils.release();
    },
  };
}
