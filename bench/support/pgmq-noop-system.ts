// Our worker (apps/worker: startWorker → QueueConsumer + QueueNotifier) with a no-op processor on
// payment_processing_queue, whose messages are schema-checked like every catalog queue's.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { pino } from "pino";
import { loadConfig } from "../../apps/worker/src/config/load-config.ts";
import type { Processor } from "../../apps/worker/src/consumer/processor.ts";
import { type RunningWorker, startWorker } from "../../apps/worker/src/worker.ts";
import type { NoopQueueSystem } from "./queue-system.ts";

const QUEUE = "payment_processing_queue";
const BULK_CHUNK = 1000;

export interface PgmqNoopOptions {
  /** A database with the platform and the migrations applied. */
  readonly url: string;
  readonly concurrency: number;
  readonly batchSize: number;
  /** The worker's LOG_LEVEL (`silent` by default, as the other systems are run; else written to /dev/null). */
  readonly logLevel?: string;
}

/** A valid payment_processing_queue message (the processor never looks at the payment). */
function paymentMessage(key: string) {
  return { version: 1, idempotency_key: key, payment_id: randomUUID(), action: "completed" };
}

export function pgmqNoopSystem(options: PgmqNoopOptions): NoopQueueSystem {
  const producer = new pg.Pool({ connectionString: options.url, max: 4 });
  // The cluster is stopped right after the last system: a closing connection may see it go.
  producer.on("error", () => undefined);
  const env = {
    DATABASE_URL: options.url,
    SMTP_HOST: "127.0.0.1",
    SMTP_FROM: "noreply@balansity.test",
    WORKER_HTTP_HOST: "127.0.0.1",
    WORKER_HTTP_PORT: "0",
    WORKER_SCHEDULER: "off",
    LOG_LEVEL: options.logLevel ?? "silent",
    QUEUE_PAYMENT_PROCESSING_QUEUE_CONCURRENCY: String(options.concurrency),
    QUEUE_PAYMENT_PROCESSING_QUEUE_BATCH_SIZE: String(options.batchSize),
  };
  const config = loadConfig(env);
  let worker: RunningWorker | undefined;
  return {
    name: "balansity (pgmq)",
    settings: `${QUEUE}: concurrency ${options.concurrency}, batch ${options.batchSize}, poll ${config.pollIntervalMs} ms + LISTEN, pool max ${config.database.poolMax}, log ${env.LOG_LEVEL}`,
    async enqueueBulk(keys) {
      for (let start = 0; start < keys.length; start += BULK_CHUNK) {
        const messages = keys
          .slice(start, start + BULK_CHUNK)
          .map((key) => JSON.stringify(paymentMessage(key)));
        await producer.query("select pgmq.send_batch($1::text, $2::jsonb[])", [QUEUE, messages]);
      }
    },
    async start(onHandle) {
      const processor: Processor<typeof QUEUE> = {
        queue: QUEUE,
        async process(message) {
          onHandle(message.idempotency_key);
        },
      };
      // Logs (when on) go to /dev/null: their cost counts, a flooded terminal does not.
      const logger =
        config.logLevel === "silent"
          ? pino({ level: "silent" })
          : pino({ level: config.logLevel }, pino.destination({ dest: "/dev/null", sync: false }));
      worker = await startWorker({ config, logger, processors: async () => [processor] });
    },
    async sendOne(key) {
      await producer.query("select pgmq.send($1::text, $2::jsonb)", [
        QUEUE,
        JSON.stringify(paymentMessage(key)),
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
      await worker?.stop();
      await producer.end();
    },
  };
}
