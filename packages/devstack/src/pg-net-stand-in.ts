import { readFileSync } from "node:fs";
import type pg from "pg";
import { pgNetStandInSqlFile } from "./paths.ts";

/** A request net.http_post recorded, as the dispatcher sent it. */
export interface PgNetSentRequest {
  readonly id: string;
  readonly url: string;
  /** The HTTP status, or null when no answer came (see `error`). */
  readonly status: number | null;
  readonly error: string | null;
}

export interface PgNetDispatcher {
  /** Sends every committed request waiting now; resolves with what was sent. */
  dispatchOnce(): Promise<PgNetSentRequest[]>;
  /** Stops polling and waits for a round in flight. */
  stop(): Promise<void>;
}

/**
 * Installs the pg_net stand-in (packages/devstack/sql/pg-net-stand-in.sql) into the database `client`
 * is connected to, as a superuser: schema `net`, `net.http_post` with pg_net's signature, recording
 * each request for {@link startPgNetDispatcher}. Opt-in, for the tests of code that uses pg_net.
 * LOCAL TESTS ONLY.
 */
export async function installPgNetStandIn(client: pg.Pool | pg.Client): Promise<void> {
  await client.query(readFileSync(pgNetStandInSqlFile, "utf8"));
}

interface QueuedRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly timeout_milliseconds: number;
}

/**
 * The stand-in's background worker: every `pollMs`, takes the committed requests of
 * net.http_request_queue (deleted when taken: sent at most once, as pg_net does), sends each over real
 * HTTP with its headers, JSON body and timeout, and records the status or the error in
 * net._http_response. No retries, like pg_net.
 */
export function startPgNetDispatcher(options: { pool: pg.Pool; pollMs?: number }): PgNetDispatcher {
  const { pool } = options;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const send = async (request: QueuedRequest): Promise<PgNetSentRequest> => {
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body === null ? null : JSON.stringify(request.body),
        signal: AbortSignal.timeout(request.timeout_milliseconds),
        redirect: "manual",
      });
      await response.body?.cancel();
      return { id: request.id, url: request.url, status: response.status, error: null };
    } catch (error) {
      const message = error instanceof Error ? error.name : String(error);
      return { id: request.id, url: request.url, status: null, error: message };
    }
  };

  const dispatchOnce = async (): Promise<PgNetSentRequest[]> => {
    const taken = await pool.query<QueuedRequest>(
      `delete from net.http_request_queue
        where id in (select id from net.http_request_queue order by id for update skip locked)
        returning id::text, method, url, headers, body, timeout_milliseconds`,
    );
    const sent: PgNetSentRequest[] = [];
    for (const request of taken.rows) {
      const outcome = await send(request);
      await pool.query("insert into net._http_response (id, status_code, error_msg) values ($1, $2, $3)", [
        outcome.id,
        outcome.status,
        outcome.error,
      ]);
      sent.push(outcome);
    }
    return sent;
  };

  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : dispatchOnce().catch(() => undefined)));
  }, options.pollMs ?? 100);

  return {
    dispatchOnce: () => {
      const round = running.then(dispatchOnce);
      running = round.catch(() => undefined);
      return round;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
