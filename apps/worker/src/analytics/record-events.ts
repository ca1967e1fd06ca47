import type { Queryable } from "@balansity/queues/consumer";

/** One analytics event, as the daily tables need it. */
export interface AnalyticsEventRow {
  readonly idempotency_key: string;
  readonly event: string;
  readonly user_id: string | null;
  /** ISO 8601 with an offset; counted on its UTC day. */
  readonly occurred_at: string;
}

export interface RecordEventsResult {
  /** Distinct idempotency keys in the batch. */
  readonly received: number;
  /** Of those, how many had not been counted before (and were counted now). */
  readonly counted: number;
}

// One statement, so one round trip and one transaction per batch. Data-modifying CTEs all run to
// completion whether or not the final select reads them. Keys go into processed_events first; only
// the ones that were new (`returning`) are counted, so a retried batch, or a key seen in an earlier
// batch, adds nothing. Rows are written in key order to keep two concurrent batches from deadlocking.
const RECORD_EVENTS = `
with input as (
  select distinct on (e.idempotency_key) e.idempotency_key, e.event, e.user_id,
         (e.occurred_at at time zone 'UTC')::date as day
    from pg_catalog.jsonb_to_recordset($1::jsonb)
           as e (idempotency_key text, event text, user_id uuid, occurred_at timestamptz)
   order by e.idempotency_key
),
fresh as (
  insert into analytics.processed_events (idempotency_key)
  select i.idempotency_key from input i order by i.idempotency_key
  on conflict (idempotency_key) do nothing
  returning idempotency_key
),
fresh_events as (
  select i.* from input i join fresh f on f.idempotency_key = i.idempotency_key
),
counts as (
  insert into analytics.daily_event_counts as c (day, event, events)
  select fe.day, fe.event, pg_catalog.count(*) from fresh_events fe group by fe.day, fe.event
   order by fe.day, fe.event
  on conflict (day, event) do update set events = c.events + excluded.events, updated_at = pg_catalog.now()
  returning 1
),
active as (
  insert into analytics.daily_active_users (day, user_id)
  select distinct fe.day, fe.user_id from fresh_events fe where fe.user_id is not null
   order by fe.day, fe.user_id
  on conflict (day, user_id) do nothing
  returning 1
)
select (select pg_catalog.count(*) from input)::int as received,
       (select pg_catalog.count(*) from fresh)::int as counted`;

/**
 * Adds a batch of events to analytics.daily_event_counts and analytics.daily_active_users, each
 * idempotency key once ever (analytics.processed_events), in one statement with the whole batch as
 * one jsonb parameter.
 *
 * ### Examples
 * ```ts
 * await recordEvents(pool, [
 *   { idempotency_key: "analytics:checkup_completed:42", event: "checkup_completed", user_id, occurred_at },
 * ]);
 * ```
 */
export async function recordEvents(
  db: Queryable,
  events: readonly AnalyticsEventRow[],
): Promise<RecordEventsResult> {
  const result = await db.query(RECORD_EVENTS, [JSON.stringify(events)]);
  const row = result.rows[0] as { received: number; counted: number } | undefined;
  return { received: row?.received ?? 0, counted: row?.counted ?? 0 };
}
