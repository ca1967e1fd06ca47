-- 038_trigger_wakeups.sql: wake only a consumer that sleeps. A NOTIFY costs the committing
-- transaction more than everything else a checkup completion does (bench/RESULTS.md,
-- trigger-overhead): PostgreSQL serialises the commits of all notifying transactions on one lock
-- held until the commit record is flushed, so with durable commits they run at about one fsync each.
-- A consumer that is busy reads again before it sleeps and needs no NOTIFY; this migration lets
-- consumers say so, and the insert triggers of 031 skip the NOTIFY while they are busy.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq extension or the pgmq-compatible
-- SQL), inside one transaction. Needs 030 (schema automation) and 031 (the notify triggers).
--
-- The protocol (a consumer is one read loop of one queue; consumer_id is stable for its life):
--   busy      pgmq_consumer_busy(queue, id, lease)    "I will read again before I sleep", for lease
--                                                      seconds (renew it while busy)
--   sleep     pgmq_consumer_waiting(queue, id, lease) "wake me": returns true when a visible message
--                                                      is already there (read instead of sleeping)
--   leave     pgmq_consumer_leave(queue, id)           on shutdown
-- A producer's transaction (the statement trigger on pgmq.q_<queue>, once per transaction) sends
-- pg_notify('pgmq_<queue>', '<queue>') unless at least one consumer of the queue holds a live busy
-- lease and none is waiting. With no consumer registered (a worker that does not use the protocol)
-- every transaction notifies, as before.
--
-- Why no message is stranded: a producer that skips the NOTIFY holds a shared advisory lock on the
-- queue from its check until it commits; pgmq_consumer_waiting records "waiting" and takes the same
-- lock exclusively before it looks for visible messages, so it waits for every such producer to
-- commit and sees their messages. A producer that checks after that sees "waiting" (the lock makes
-- it queue behind the consumer's commit) and notifies. A consumer that dies keeps its lease only
-- until it expires; after that producers notify again. A producer transaction that stays open
-- longer than max_wait_ms (default 100) after its insert is not waited for (producers would queue
-- behind the waiting consumer): its message waits for the consumer's poll.

create unlogged table automation.queue_consumers (
  queue_name text not null,
  consumer_id text not null,
  state text not null,
  expires_at timestamptz not null,
  constraint queue_consumers_pkey primary key (queue_name, consumer_id),
  constraint queue_consumers_state_check check (state in ('busy', 'waiting')),
  constraint queue_consumers_consumer_id_check check (pg_catalog.length(consumer_id) between 1 and 200)
);

comment on table automation.queue_consumers is
  'Queue consumers that take part in the wake-up protocol of 038: busy (reads again before sleeping, so producers skip the NOTIFY) or waiting (producers notify), each until expires_at. Unlogged: after a crash it is empty and every producer notifies.';

alter table automation.queue_consumers enable row level security;
-- No policy: only the owner and service_role (bypassrls); service_role producers read it in the trigger.
revoke all on table automation.queue_consumers from public, anon, authenticated;
grant select on table automation.queue_consumers to service_role;

-- ---------------------------------------------------------------------------------------------
-- The producers' side: the insert trigger of 031, now asking whether anyone must be woken
-- ---------------------------------------------------------------------------------------------

create or replace function public.pgmq_notify_insert()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  target_queue text := tg_argv[0];
  -- A transaction-local flag per queue: set on the first insert, gone at commit or rollback
  -- (and at rollback to a savepoint, together with the notification it stands for).
  flag text := 'balansity.pgmq_notified_' || tg_argv[0];
  wake boolean;
begin
  if pg_catalog.current_setting(flag, true) is distinct from 'on' then
    perform pg_catalog.set_config(flag, 'on', true);
    -- Held until commit: a consumer going to sleep waits for this transaction (see the header).
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('pgmq_consumers:' || target_queue, 0));
    -- Wake unless a live busy consumer will read again and no consumer is waiting; no live
    -- consumer at all (null) wakes too.
    select coalesce(pg_catalog.bool_or(c.state = 'waiting'), true)
    into wake
    from automation.queue_consumers c
    where c.queue_name = target_queue
      and c.expires_at > pg_catalog.now();
    if wake then
      perform pg_catalog.pg_notify('pgmq_' || target_queue, target_queue);
    end if;
  end if;
  return null;
end;
$$;

comment on function public.pgmq_notify_insert() is
  'Trigger function (statement-level after insert on pgmq.q_<queue>, argument: the queue name): once per transaction per queue, wakes the consumers with pg_notify(''pgmq_<queue>'', ''<queue>'') unless a consumer of the queue holds a live busy lease and none is waiting (038). Security invoker: the producing role needs select on automation.queue_consumers (service_role has it). Not callable directly.';

-- ---------------------------------------------------------------------------------------------
-- The consumers' side
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_consumer_busy(queue_name text, consumer_id text, lease_seconds integer default 30)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_consumer_busy.queue_name) then
    raise exception 'pgmq_consumer_busy: queue_name "%" is not a queue (pgmq.list_queues() lists them)',
      pgmq_consumer_busy.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_consumer_busy.consumer_id is null or pg_catalog.length(pgmq_consumer_busy.consumer_id) not between 1 and 200 then
    raise exception 'pgmq_consumer_busy: consumer_id must be 1 to 200 characters' using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_consumer_busy.lease_seconds is null or pgmq_consumer_busy.lease_seconds not between 1 and 3600 then
    raise exception 'pgmq_consumer_busy: lease_seconds must be 1 to 3600 (got %)', pgmq_consumer_busy.lease_seconds
      using errcode = 'invalid_parameter_value';
  end if;
  insert into automation.queue_consumers as c (queue_name, consumer_id, state, expires_at)
  values (
    pgmq_consumer_busy.queue_name,
    pgmq_consumer_busy.consumer_id,
    'busy',
    pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => pgmq_consumer_busy.lease_seconds)
  )
  on conflict on constraint queue_consumers_pkey do update
    set state = excluded.state, expires_at = excluded.expires_at;
end;
$$;

comment on function public.pgmq_consumer_busy(text, text, integer) is
  'service_role (the worker): consumer consumer_id of queue_name is busy and will read again before it sleeps, for lease_seconds (1..3600); meanwhile producers skip the wake-up NOTIFY (038). Renew before the lease ends; call pgmq_consumer_waiting before sleeping.';

create function public.pgmq_consumer_waiting(
  queue_name text,
  consumer_id text,
  lease_seconds integer default 30,
  max_wait_ms integer default 100
)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  has_visible boolean;
  caller_lock_timeout text := pg_catalog.current_setting('lock_timeout');
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_consumer_waiting.queue_name) then
    raise exception 'pgmq_consumer_waiting: queue_name "%" is not a queue (pgmq.list_queues() lists them)',
      pgmq_consumer_waiting.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_consumer_waiting.consumer_id is null or pg_catalog.length(pgmq_consumer_waiting.consumer_id) not between 1 and 200 then
    raise exception 'pgmq_consumer_waiting: consumer_id must be 1 to 200 characters' using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_consumer_waiting.lease_seconds is null or pgmq_consumer_waiting.lease_seconds not between 1 and 3600 then
    raise exception 'pgmq_consumer_waiting: lease_seconds must be 1 to 3600 (got %)', pgmq_consumer_waiting.lease_seconds
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_consumer_waiting.max_wait_ms is null or pgmq_consumer_waiting.max_wait_ms not between 1 and 10000 then
    raise exception 'pgmq_consumer_waiting: max_wait_ms must be 1 to 10000 (got %)', pgmq_consumer_waiting.max_wait_ms
      using errcode = 'invalid_parameter_value';
  end if;
  insert into automation.queue_consumers as c (queue_name, consumer_id, state, expires_at)
  values (
    pgmq_consumer_waiting.queue_name,
    pgmq_consumer_waiting.consumer_id,
    'waiting',
    pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => pgmq_consumer_waiting.lease_seconds)
  )
  on conflict on constraint queue_consumers_pkey do update
    set state = excluded.state, expires_at = excluded.expires_at;
  -- Waits for every producer that skipped its NOTIFY while this consumer was busy; producers that
  -- come later queue behind this transaction and then see "waiting". A producer transaction still
  -- open after max_wait_ms (a long one) is not waited for, so that producers never queue behind
  -- this call for long: its message is found by the consumer's next poll.
  perform pg_catalog.set_config('lock_timeout', pgmq_consumer_waiting.max_wait_ms || 'ms', true);
  begin
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('pgmq_consumers:' || pgmq_consumer_waiting.queue_name, 0));
  exception
    when lock_not_available then
      null;
  end;
  perform pg_catalog.set_config('lock_timeout', caller_lock_timeout, true);
  execute pg_catalog.format(
    'select exists (select from pgmq.%I where vt <= pg_catalog.clock_timestamp())',
    pgmq.format_table_name(pgmq_consumer_waiting.queue_name, 'q')
  )
  into has_visible;
  return has_visible;
end;
$$;

comment on function public.pgmq_consumer_waiting(text, text, integer, integer) is
  'service_role (the worker): consumer consumer_id of queue_name is about to sleep until a NOTIFY on pgmq_<queue_name> or its poll, for lease_seconds (1..3600; renew with each poll). Waits (at most max_wait_ms, 1..10000, default 100) for producers that skipped their NOTIFY meanwhile; returns true when a visible message is already there (read it instead of sleeping).';

create function public.pgmq_consumer_leave(queue_name text, consumer_id text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  delete from automation.queue_consumers c
  where c.queue_name = pgmq_consumer_leave.queue_name and c.consumer_id = pgmq_consumer_leave.consumer_id;
$$;

comment on function public.pgmq_consumer_leave(text, text) is
  'service_role (the worker, on shutdown): consumer consumer_id no longer consumes queue_name; producers stop counting on it.';

revoke execute on function public.pgmq_consumer_busy(text, text, integer) from public, anon, authenticated;
revoke execute on function public.pgmq_consumer_waiting(text, text, integer, integer) from public, anon, authenticated;
revoke execute on function public.pgmq_consumer_leave(text, text) from public, anon, authenticated;
grant execute on function public.pgmq_consumer_busy(text, text, integer) to service_role;
grant execute on function public.pgmq_consumer_waiting(text, text, integer, integer) to service_role;
grant execute on function public.pgmq_consumer_leave(text, text) to service_role;
