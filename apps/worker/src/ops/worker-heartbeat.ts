import type pg from "pg";
import type { Logger } from "pino";

/** What /healthz shows of the heartbeat. */
export interface HeartbeatStatus {
  readonly worker_id: string;
  /** When the database last recorded this worker alive (null: not yet, or the last beat failed). */
  readonly last_beat_at: string | null;
}

export interface WorkerHeartbeat {
  status(): HeartbeatStatus;
  /** Stops beating and marks this worker stopped in the database (best effort). */
  stop(): Promise<void>;
}

export interface WorkerIdentity {
  readonly workerId: string;
  readonly hostname: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: Date;
}

/**
 * Records this worker process alive in automation.worker_heartbeats (migration 052) every
 * `intervalMs`: one upsert through public.worker_heartbeat. The check-alerts cron job raises
 * no_worker when no row is fresh. A failed beat is logged once per outage, never retried early: the
 * next tick is the retry.
 *
 * ### Examples
 * ```ts
 * const heartbeat = startWorkerHeartbeat({ pool, logger, identity, intervalMs: 5_000 });
 * await heartbeat.stop(); // at shutdown: the row says stopped
 * ```
 */
export function startWorkerHeartbeat(options: {
  pool: pg.Pool;
  logger: Logger;
  identity: WorkerIdentity;
  intervalMs: number;
}): WorkerHeartbeat {
  const { pool, logger, identity } = options;
  let lastBeatAt: string | null = null;
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();

  const beat = (stopped: boolean): Promise<void> =>
    pool
      .query<{ at: Date }>("select public.worker_heartbeat($1, $2, $3, $4, $5, $6), now() as at", [
        identity.workerId,
        identity.hostname,
        identity.pid,
        identity.version,
        identity.startedAt.toISOString(),
        stopped,
      ])
      .then(
        (result) => {
          lastBeatAt = result.rows[0]?.at.toISOString() ?? null;
          if (failing) logger.info({ worker_id: identity.workerId }, "heartbeat recorded again");
          failing = false;
        },
        (error: unknown) => {
          lastBeatAt = null;
          if (!failing) logger.warn({ err: error, worker_id: identity.workerId }, "heartbeat not recorded");
          failing = true;
        },
      );

  const tick = () => {
    inFlight = inFlight.then(() => beat(false));
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();

  return {
    status: () => ({ worker_id: identity.workerId, last_beat_at: lastBeatAt }),
    async stop() {
      clearInterval(timer);
      await inFlight;
      await beat(true);
    },
  };
}
