-- 045_seed_backlog_and_saved_results.sql: the worker takes over a backlog another consumer has
-- read before, and a checkup keeps the results the app saved on it.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq 1.5 extension or the devstack's
-- pgmq-compatible SQL). Needs 031 (the queues), 040 (the automation schema, the scoring trigger).
--
--   object                                         who
--   automation.consumer_first_reads                the worker, through public.pgmq_first_reads
--   public.pgmq_first_reads(queue, ids, read_cts)  service_role (the worker's consumers)
--   public.set_server_results()                    trigger function (re-declared: keeps saved results)

-- ---------------------------------------------------------------------------------------------
-- Attempts count from the worker's first read
-- ---------------------------------------------------------------------------------------------
--
-- pgmq's read_ct counts every read, whoever made it: the seed-era Edge Function, a `pgmq.read` typed
-- by hand. Those reads are not the worker's attempts. pgmq 1.5.1 records nothing else about a read,
-- so the worker records, per message it sees read before (read_ct > 1) or fails, which read_ct was
-- its own first; its attempts are read_ct - first_read + 1. A message the worker reads first
-- (read_ct = 1) and finishes costs nothing here: that is every message of a healthy queue.

create table automation.consumer_first_reads (
  queue_name text not null,
  msg_id bigint not null,
  first_read integer not null,
  recorded_at timestamptz not null default now(),
  constraint consumer_first_reads_pkey primary key (queue_name, msg_id),
  constraint consumer_first_reads_first_read_check check (first_read >= 1)
);

comment on table automation.consumer_first_reads is
  'Per queue message read before the worker''s first read, or failed by the worker: pgmq''s read_ct at the worker''s first read, so reads by earlier consumers are not counted as attempts (045). Rows of messages older than the oldest in their queue are pruned by public.pgmq_first_reads.';

alter table automation.consumer_first_reads enable row level security;
-- No policies: only public.pgmq_first_reads (security definer) reads and writes it; the schema is not exposed.
revoke all on automation.consumer_first_reads from public, anon, authenticated, service_role;

create function public.pgmq_first_reads(queue_name text, msg_ids bigint[], read_counts integer[])
returns table (msg_id bigint, first_read integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  oldest bigint;
begin
  if pg_catalog.cardinality(pgmq_first_reads.msg_ids) is distinct from pg_catalog.cardinality(pgmq_first_reads.read_counts) then
    raise exception 'pgmq_first_reads: msg_ids and read_counts must have the same length'
      using errcode = 'invalid_parameter_value';
  end if;
  if not exists (select 1 from pgmq.meta m where m.queue_name = pgmq_first_reads.queue_name) then
    raise exception 'pgmq_first_reads: queue "%" does not exist', pgmq_first_reads.queue_name
      using errcode = 'invalid_parameter_value';
  end if;

  -- msg_ids only grow: a row below the oldest message of its queue belongs to a message that is gone.
  execute pg_catalog.format('select pg_catalog.min(msg_id) from pgmq.%I', 'q_' || pgmq_first_reads.queue_name)
    into oldest;
  delete from automation.consumer_first_reads f
  where f.queue_name = pgmq_first_reads.queue_name
    and f.msg_id < coalesce(oldest, 9223372036854775807);

  -- The first call for a message records the read_ct it passes; later calls return that one.
  return query
    with given as (
      select g.msg_id, g.read_ct
      -- unqualified: only then is unnest(a, b) the zipping form (pg_catalog is searched all the same)
      from unnest(pgmq_first_reads.msg_ids, pgmq_first_reads.read_counts) as g (msg_id, read_ct)
      where g.msg_id is not null and g.read_ct >= 1
    ),
    added as (
      insert into automation.consumer_first_reads as f (queue_name, msg_id, first_read)
      select pgmq_first_reads.queue_name, g.msg_id, pg_catalog.min(g.read_ct)
      from given g
      group by g.msg_id
      on conflict on constraint consumer_first_reads_pkey do nothing
      returning f.msg_id, f.first_read
    )
    select a.msg_id, a.first_read from added a
    union all
    select f.msg_id, f.first_read
    from automation.consumer_first_reads f
    where f.queue_name = pgmq_first_reads.queue_name
      and f.msg_id in (select g.msg_id from given g);
end;
$$;

comment on function public.pgmq_first_reads(text, bigint[], integer[]) is
  'service_role (the worker''s consumers): records, for each msg_id not yet recorded, the read_ct given as the worker''s first read of it, and returns the recorded first read of each; the worker counts attempts from there, so reads by earlier consumers are not its attempts (045).';

revoke execute on function public.pgmq_first_reads(text, bigint[], integer[]) from public, anon, authenticated;
grant execute on function public.pgmq_first_reads(text, bigint[], integer[]) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Results as the app saves them
-- ---------------------------------------------------------------------------------------------
--
-- The Balansity app computes a checkup's results itself and saves them on the row (any kind). 040
-- discarded what the API roles wrote and scored three kinds from q1..q6. Now what the app saves is
-- kept; on completion the answers are scored only when nothing was saved (public.score_assessment,
-- null for a kind it has no scorer for). Whether saved results fit the report contract is decided
-- where the report is made (@balansity/reports): results that do not fit are replaced there by the
-- scorer's, when the kind has one, and a kind with neither gets a report without scores.

create or replace function public.set_server_results()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if new.status = 'completed'
    and (tg_op = 'INSERT' or old.status is distinct from 'completed')
    and new.results is null
  then
    new.results := public.score_assessment(new.kind, new.answers);
  end if;
  return new;
end;
$$;

comment on function public.set_server_results() is
  'Trigger function assessments_server_results (before insert or update on public.assessments): when a checkup becomes completed without saved results, scores its answers with public.score_assessment; results the app saved are kept (045).';

comment on column public.assessments.results is
  'What the app saved on the checkup, or, when it saved nothing, computed on completion by public.score_assessment. A report uses them when they fit the contract of @balansity/reports.';
