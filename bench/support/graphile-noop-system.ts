// graphile-worker 0.16.6 (run + makeWorkerUtils) with a no-op task, in its own database.
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
  readonly concurrency: number;
  /** Node-postgres pool size of the runner (its default is 10, as ours). */
  readonly maxPoolSize: number;
}

export async function graphileNoopSystem(options: GraphileNoopOptions): Promise<NoopQueueSystem> {
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: options.url, logger: silent });
  await utils.migrate();
  let runner: Runner | undefined;
  return {
    name: `graphile-worker ${packageVersion("graphile-worker")}`,
    settings: `concurrency ${options.concurrency}, pollInterval 2000 ms (default) + LISTEN, maxPoolSize ${options.maxPoolSize}, prepared statements on (default), logger silent`,
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
