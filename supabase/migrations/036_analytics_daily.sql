-- 036_analytics_daily.sql: daily aggregates of the analytics_queue events, written by the worker.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (15+: the view uses security_invoker),
-- inside one transaction. Needs nothing from earlier migrations.
--
--   table / view                         one row per                 written by
--   analytics.daily_event_counts         UTC day and event name      the worker (AnalyticsProcessor)
--   analytics.daily_active_users         UTC day and user            the worker
--   analytics.processed_events           idempotency key seen        the worker (dedupes retries)
--   analytics.daily_active_user_counts   UTC day (view)              -
--
-- The worker writes each micro-batch of events in one statement (apps/worker/src/analytics/
-- record-events.ts): the batch's idempotency keys go into processed_events first, and only the keys
-- that were new are counted, so a retried or duplicated message is counted once.
--
-- processed_events grows by one row per event. Keys only need to outlive a message's retries (at
-- most hours), so rows older than 30 days can be deleted at any time, e.g. by a later cron job:
--   delete from analytics.processed_events where processed_at < now() - interval '30 days';
-- (processed_events_processed_at_idx makes that cheap).
--
-- daily_active_users holds user ids without a foreign key, so that deleting a user does not rewrite
-- history; a user's rows can be deleted with their account if privacy requires it.
--
-- Access: the schema is not exposed through PostgREST (it is not in the API's schema list), and the
-- browser roles get nothing. RLS is on with no policies: only service_role (bypassrls) and the owner
-- read or write these tables.

create schema if not exists analytics;

comment on schema analytics is
  'Daily aggregates of analytics_queue events, written by the queue worker as service_role. Not exposed through the API.';

revoke all on schema analytics from public, anon, authenticated;
grant usage on schema analytics to service_role;

-- ---------------------------------------------------------------------------------------------
-- daily_event_counts
-- ---------------------------------------------------------------------------------------------

create table analytics.daily_event_counts (
  day date not null,
  event text not null,
  events bigint not null,
  updated_at timestamptz not null default now(),
  constraint daily_event_counts_pkey primary key (day, event),
  constraint daily_event_counts_events_check check (events > 0)
);

comment on table analytics.daily_event_counts is
  'How many events of each kind happened on each day (UTC day of occurred_at); each idempotency key counts once.';

-- ---------------------------------------------------------------------------------------------
-- daily_active_users
-- ---------------------------------------------------------------------------------------------

create table analytics.daily_active_users (
  day date not null,
  user_id uuid not null,
  constraint daily_active_users_pkey primary key (day, user_id)
);

comment on table analytics.daily_active_users is
  'Which users had at least one event on each day (UTC). No foreign key: deleting a user keeps the history.';

create view analytics.daily_active_user_counts
with (security_invoker = true)
as
select u.day, pg_catalog.count(*)::bigint as users
from analytics.daily_active_users u
group by u.day;

comment on view analytics.daily_active_user_counts is
  'Distinct users with at least one event per day (UTC).';

-- ---------------------------------------------------------------------------------------------
-- processed_events
-- ---------------------------------------------------------------------------------------------

create table analytics.processed_events (
  idempotency_key text not null,
  processed_at timestamptz not null default now(),
  constraint processed_events_pkey primary key (idempotency_key)
);

comment on table analytics.processed_events is
  'Idempotency keys of the events already counted, so a retried or duplicated message counts once. Rows older than 30 days may be deleted.';

create index processed_events_processed_at_idx on analytics.processed_events (processed_at);

-- ---------------------------------------------------------------------------------------------
-- Row level security and grants
-- ---------------------------------------------------------------------------------------------

alter table analytics.daily_event_counts enable row level security;
alter table analytics.daily_active_users enable row level security;
alter table analytics.processed_events enable row level security;

revoke all on table analytics.daily_event_counts, analytics.daily_active_users, analytics.processed_events
  from public, anon, authenticated;
revoke all on table analytics.daily_active_user_counts from public, anon, authenticated;

grant select, insert, update, delete
  on table analytics.daily_event_counts, analytics.daily_active_users, analytics.processed_events
  to service_role;
grant select on table analytics.daily_active_user_counts to service_role;
