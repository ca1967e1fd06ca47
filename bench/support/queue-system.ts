// What worker-throughput.ts needs from each queue system it compares.

/** One queue system with a no-op handler, set up in its own database. */
export interface NoopQueueSystem {
  /** `balansity (pgmq)`, `graphile-worker 0.16.6`, `pg-boss 10.4.2`. */
  readonly name: string;
  /** The settings that matter for the comparison, in one line. */
  readonly settings: string;
  /** Enqueues `keys.length` messages in bulk (a few statements), one per key. */
  enqueueBulk(keys: readonly string[]): Promise<void>;
  /** Starts the workers; `onHandle(key)` is called as each handler starts. */
  start(onHandle: (key: string) => void): Promise<void>;
  /** Enqueues one message the way an application would (one statement); resolves once committed. */
  sendOne(key: string): Promise<void>;
  /** Messages enqueued and not yet completed (archived, deleted or marked done). */
  pending(): Promise<number>;
  /** Deletes every message still waiting (after a time-limited phase). */
  purge(): Promise<void>;
  /** Stops the workers and closes every connection. */
  stop(): Promise<void>;
}
