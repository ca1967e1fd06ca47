import type { DatabaseConfig } from "@balansity/db";
import { createPool } from "@balansity/db/create-pool";
import type pg from "pg";
import { MARK_SENT_SQL, type SentRecord, sentRecordsParameters } from "./sent-records.ts";
import { TurnBatcher } from "./turn-batcher.ts";

/** Connections the SMTP thread opens for its records, beside the worker's pool (DATABASE_POOL_MAX). */
export const SENT_RECORDER_CONNECTIONS = 2;

/**
 * The SMTP thread's own writer of "sent" records, on connections of its own: an acceptance is recorded
 * as soon as the server's reply reaches the thread, without waiting for the main thread (busy rendering
 * the next emails) to take the reply. Records of one turn go as one statement, each turn's at its end
 * (no group commit: until a record commits, a crash makes its email a resend).
 */
export class ThreadSentRecorder {
  readonly #pool: pg.Pool;
  readonly #records: TurnBatcher<SentRecord, void>;

  constructor(database: DatabaseConfig) {
    this.#pool = createPool({ ...database, poolMax: SENT_RECORDER_CONNECTIONS });
    // An idle connection lost (a database restart): the next record opens another.
    this.#pool.on("error", () => undefined);
    this.#records = new TurnBatcher(
      async (records) => {
        await this.#pool.query(MARK_SENT_SQL, sentRecordsParameters(records));
        return records.map(() => undefined);
      },
      { groupCommit: false },
    );
  }

  /**
   * Records the acceptance. False when the database did not take it (away, refused): the main thread
   * then records it itself, with its patience for a database restart.
   */
  record(record: SentRecord): Promise<boolean> {
    return this.#records.add(record).then(
      () => true,
      () => false,
    );
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
