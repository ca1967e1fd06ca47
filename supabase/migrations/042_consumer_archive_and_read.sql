-- 042_consumer_archive_and_read.sql: one round trip per batch for a busy consumer.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq extension or the devstack's
-- pgmq-compatible SQL), inside one transaction. Needs 031 (the queues) and 038 (the consumers' side).
--
-- A consumer with a backlog archives the batch it finished and reads the next one. As two statements
-- that is two round trips and two plans per batch, which on a busy queue is as much work as pgmq's
-- own row writes. public.pgmq_archive_and_read does both in one call: first pgmq.archive(ids[]), then
-- pgmq.read, with the same arguments and results as those two (pgmq 1.5 API only).
--
-- Security invoker: the caller needs what pgmq.archive and pgmq.read need (service_role has it).

create function public.pgmq_archive_and_read(
  queue_name text,
  archive_ids bigint[],
  vt integer,
  qty integer,
  conditional jsonb default '{}'::jsonb
)
returns setof pgmq.message_record
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- Archived first, so the read's snapshot no longer holds them; an id that is gone is skipped, as
  -- pgmq.archive does. Both happen or neither: one statement.
  if pg_catalog.cardinality(pgmq_archive_and_read.archive_ids) > 0 then
    perform pgmq.archive(pgmq_archive_and_read.queue_name, pgmq_archive_and_read.archive_ids);
  end if;
  return query
    select *
    from pgmq.read(
      pgmq_archive_and_read.queue_name,
      pgmq_archive_and_read.vt,
      pgmq_archive_and_read.qty,
      coalesce(pgmq_archive_and_read.conditional, '{}'::jsonb)
    );
end;
$$;

comment on function public.pgmq_archive_and_read(text, bigint[], integer, integer, jsonb) is
  'service_role (the worker): pgmq.archive(queue_name, archive_ids) and then pgmq.read(queue_name, vt, qty, conditional) in one call, so a consumer with a backlog spends one round trip per batch (042). Returns what pgmq.read returns.';

revoke execute on function public.pgmq_archive_and_read(text, bigint[], integer, integer, jsonb)
  from public, anon, authenticated;
grant execute on function public.pgmq_archive_and_read(text, bigint[], integer, integer, jsonb) to service_role;
