import type { QueueName } from "@balansity/queues";
import { notifyChannel } from "@balansity/queues/consumer";
import pg from "pg";
import type { Logger } from "pino";

/**
 * Holds one session connection that LISTENs on each consumed queue's channel (`notifyChannel`) for every consumed queue and wakes the
 * matching consumer. When the connection drops it reconnects with capped backoff and wakes every
 * consumer (notifications sent meanwhile are lost; the consumers' read finds those messages).
 * Not used behind a transaction pooler, where LISTEN cannot work: the consumers poll instead.
 */
export class QueueNotifier {
  readonly #clientConfig: pg.ClientConfig;
  readonly #queues: readonly QueueName[];
  readonly #onNotify: (queue: QueueName | "*") => void;
  readonly #logger: Logger;
  #client: pg.Client | undefined;
  #stopped = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #connected = false;

  constructor(options: {
    clientConfig: pg.ClientConfig;
    queues: readonly QueueName[];
    onNotify: (queue: QueueName | "*") => void;
    logger: Logger;
  }) {
    this.#clientConfig = options.clientConfig;
    this.#queues = options.queues;
    this.#onNotify = options.onNotify;
    this.#logger = options.logger;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client(this.#clientConfig);
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("connection ended")));
    client.on("notification", (notification) => {
      const queue = notification.payload as QueueName | undefined;
      if (queue && this.#queues.includes(queue)) this.#onNotify(queue);
    });
    try {
      await client.connect();
      for (const queue of this.#queues) await client.query(`listen "${notifyChannel(queue)}"`);
      this.#client = client;
      this.#connected = true;
      if (this.#failures > 0) this.#logger.info("listening for queue notifications again");
      this.#failures = 0;
      // Anything sent while we were not listening is only found by reading.
      this.#onNotify("*");
    } catch (error) {
      await client.end().catch(() => undefined);
      this.#lost(client, error);
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#stopped || (this.#client !== undefined && this.#client !== client)) return;
    if (this.#retryTimer) return;
    this.#client = undefined;
    this.#connected = false;
    this.#failures += 1;
    const delay = Math.min(30_000, 100 * 2 ** this.#failures);
    this.#logger.warn({ err: error, retry_in_ms: delay }, "notification connection lost; polling meanwhile");
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
  }
}
