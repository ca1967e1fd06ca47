-- 049_email_send_budget.sql: the SMTP send budget every worker replica shares, and handing messages
-- back without spending an attempt.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq extension or the devstack's
-- pgmq-compatible SQL), inside one transaction. Needs 031 (the queues) and 034 (schema automation).
--
-- A mail provider allows at most N messages in ANY window of W (nic.ru: 50 in 15 minutes per mailbox),
-- counted over a sliding window. The worker (SMTP_SEND_LIMIT=N/W) reads email_queue through
-- public.email_budget_read: one statement that takes a slot in automation.email_send_slots for every
-- message it reads and reads no more messages than there are free slots. A message that does not fit
-- is not read at all: it waits in the queue, visible, with no attempt spent, and the worker reads again
-- when the oldest slot leaves the window. Replicas share the slots; a transaction-scoped advisory lock
-- per sending account makes each read-and-reserve atomic across them.
--
-- Order inside the budget: tier (0 transactional, 1 checkup and report emails, 2 the 24-hour
-- reminder: the worker passes the template → tier map, priority 1 is always tier 0), then fair share
-- (a user's emails queue behind those of users who had fewer slots in the window), then age.

create table automation.email_send_budgets (
  account text primary key,
  send_limit integer not null check (send_limit > 0),
  window_seconds double precision not null check (window_seconds > 0),
  updated_at timestamptz not null default now()
);

comment on table automation.email_send_budgets is
  'The send budget each sending account runs under (SMTP_SEND_LIMIT), written by the worker at start-up for the console and the CLI (049).';

create table automation.email_send_slots (
  account text not null,
  reserved_at timestamptz not null,
  msg_id bigint not null,
  idempotency_key text not null,
  tier smallint not null,
  user_key text not null
);

comment on table automation.email_send_slots is
  'One row per email read under the send budget, while it is inside the window (049): the sliding window every worker replica counts. A slot counts from when its email was sent (automation.email_deliveries.sent_at, by idempotency key) or failed; while it is in flight, until a visibility timeout after it was read. Written and pruned by public.email_budget_read.';

create index email_send_slots_account_time_idx on automation.email_send_slots (account, reserved_at);

alter table automation.email_send_budgets enable row level security;
alter table automation.email_send_slots enable row level security;
-- No policies: only service_role (bypasses RLS) and the owner use them; the schema is not exposed.
revoke all on automation.email_send_budgets, automation.email_send_slots from public;
grant select, insert, update, delete on automation.email_send_budgets, automation.email_send_slots
  to service_role;

create function public.email_budget_read(
  p_account text,
  p_limit integer,
  p_window_seconds double precision,
  p_margin_seconds double precision,
  p_vt integer,
  p_qty integer,
  p_archive_ids bigint[],
  p_tiers jsonb
)
returns table (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamptz,
  vt timestamptz,
  message jsonb,
  headers jsonb,
  next_slot_at timestamptz
)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz;
  v_used integer;
  v_free integer;
  v_taken integer;
  v_span interval;
  v_next timestamptz;
begin
  if p_account is null or p_limit is null or p_limit < 1 or p_window_seconds is null
     or p_window_seconds <= 0 or p_margin_seconds is null or p_margin_seconds < 0 or p_qty is null
     or p_qty < 1 or p_vt is null or p_vt < 0 then
    raise exception 'email_budget_read: p_account, p_limit >= 1, p_window_seconds > 0, p_margin_seconds >= 0, p_qty >= 1 and p_vt >= 0 are required'
      using errcode = '22023';
  end if;
  -- A slot is kept for the window plus a margin for the clocks of the database and the mail server.
  v_span := pg_catalog.make_interval(secs => p_window_seconds + p_margin_seconds);
  if pg_catalog.cardinality(p_archive_ids) > 0 then
    perform pgmq.archive('email_queue', p_archive_ids);
  end if;
  -- One reader per account at a time, whatever the replica: count, choose and reserve as one step.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('email_send_budget:' || p_account, 0));
  v_now := pg_catalog.clock_timestamp();
  -- A slot counts from when the provider saw its email: the delivery log's sent_at (or the time the
  -- send failed), not when it was read — a batch read at once may be sent over seconds. An email still
  -- in flight holds its slot until it is sent, or its visibility timeout runs out. Few rows: at most
  -- p_limit slots per account outlive this pruning.
  delete from automation.email_send_slots s
   where s.account = p_account
     and coalesce(
           (select coalesce(d.sent_at, case when d.status = 'failed' and d.updated_at >= s.reserved_at then d.updated_at end)
              from automation.email_deliveries d where d.idempotency_key = s.idempotency_key),
           s.reserved_at + pg_catalog.make_interval(secs => p_vt)
         ) <= v_now - v_span;
  select pg_catalog.count(*)::integer,
         -- When one frees: a sent slot at its time plus the window; one in flight, look again in a second.
         pg_catalog.min(case when t.done_at is null then v_now + interval '1 second' else t.done_at + v_span end)
    into v_used, v_next
    from automation.email_send_slots s
    left join lateral (
      select coalesce(d.sent_at, case when d.status = 'failed' and d.updated_at >= s.reserved_at then d.updated_at end) as done_at
        from automation.email_deliveries d where d.idempotency_key = s.idempotency_key
    ) t on true
   where s.account = p_account;
  v_free := least(p_qty, p_limit - v_used);

  if v_free > 0 then
    return query
    with candidates as (
      -- Bounded: the oldest waiting high-priority emails (037's index) and the oldest of all.
      (select q.msg_id, q.message from pgmq.q_email_queue q
        where q.vt <= v_now and q.message @> '{"priority": 1}'
        order by q.msg_id limit 1000)
      union
      (select q.msg_id, q.message from pgmq.q_email_queue q
        where q.vt <= v_now
        order by q.msg_id limit 1000)
    ),
    ranked as (
      select c.msg_id,
             case when c.message @> '{"priority": 1}' then 0
                  else coalesce((p_tiers ->> (c.message ->> 'template'))::smallint, 1) end as tier,
             coalesce(c.message ->> 'user_id', pg_catalog.lower(c.message ->> 'to'), '') as user_key
        from candidates c
    ),
    used_by as (
      select s.user_key, pg_catalog.count(*) as n
        from automation.email_send_slots s
       where s.account = p_account
       group by s.user_key
    ),
    chosen as (
      select r.msg_id, r.tier, r.user_key
        from ranked r
        left join used_by u on u.user_key = r.user_key
       order by r.tier,
                coalesce(u.n, 0) + pg_catalog.row_number() over (partition by r.tier, r.user_key order by r.msg_id),
                r.msg_id
       limit v_free
    ),
    taken as (
      update pgmq.q_email_queue q
         set vt = v_now + pg_catalog.make_interval(secs => p_vt),
             read_ct = q.read_ct + 1
        from chosen c
       where q.msg_id = c.msg_id
         and q.vt <= v_now
      returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers, c.tier, c.user_key
    ),
    reserved as (
      insert into automation.email_send_slots (account, reserved_at, msg_id, idempotency_key, tier, user_key)
      select p_account, v_now, t.msg_id, coalesce(t.message ->> 'idempotency_key', ''), t.tier, t.user_key
        from taken t
    )
    select t.msg_id, t.read_ct, t.enqueued_at, t.vt, t.message, t.headers, null::timestamptz
      from taken t
     order by t.tier, t.msg_id;
    get diagnostics v_taken = row_count;
  else
    v_taken := 0;
  end if;

  -- The budget, not the queue, stopped this read: say when the next slot frees (one row, msg_id null).
  if v_taken >= v_free and v_free < p_qty then
    return query
    select null::bigint, null::integer, null::timestamptz, null::timestamptz, null::jsonb, null::jsonb,
           case when v_taken > 0 then v_now + interval '1 second' else coalesce(v_next, v_now + interval '1 second') end;
  end if;

  -- What the console and `balansity email budget` show: written when it changes, read once per batch.
  if not exists (
    select 1 from automation.email_send_budgets b
     where b.account = p_account and b.send_limit = p_limit and b.window_seconds = p_window_seconds
  ) then
    insert into automation.email_send_budgets as b (account, send_limit, window_seconds)
    values (p_account, p_limit, p_window_seconds)
    on conflict (account) do update
      set send_limit = excluded.send_limit, window_seconds = excluded.window_seconds, updated_at = pg_catalog.now();
  end if;
end;
$$;

comment on function public.email_budget_read(text, integer, double precision, double precision, integer, integer, bigint[], jsonb) is
  'service_role (the worker''s email consumer under SMTP_SEND_LIMIT): archives p_archive_ids, then reads from email_queue at most as many messages as the send budget of p_account has free slots (p_limit in any p_window_seconds, each slot kept p_margin_seconds longer), reserving a slot for each, by tier (p_tiers: template -> 0/1/2; priority 1 is 0), fair share per user, age. Returns pgmq.read''s columns plus next_slot_at on an extra row (msg_id null) when the budget stopped the read (049).';

revoke execute on function public.email_budget_read(text, integer, double precision, double precision, integer, integer, bigint[], jsonb)
  from public, anon, authenticated;
grant execute on function public.email_budget_read(text, integer, double precision, double precision, integer, integer, bigint[], jsonb)
  to service_role;

create function public.email_budget_status(p_tiers jsonb)
returns table (
  account text,
  send_limit integer,
  window_seconds double precision,
  sent_in_window integer,
  remaining integer,
  next_slot_at timestamptz,
  waiting_tier_0 bigint,
  waiting_tier_1 bigint,
  waiting_tier_2 bigint
)
language sql
stable
security invoker
set search_path = ''
as $$
  with waiting as (
    select
      pg_catalog.count(*) filter (where t.tier = 0) as tier_0,
      pg_catalog.count(*) filter (where t.tier = 1) as tier_1,
      pg_catalog.count(*) filter (where t.tier = 2) as tier_2
    from (
      select case when q.message @> '{"priority": 1}' then 0
                  else coalesce((p_tiers ->> (q.message ->> 'template'))::smallint, 1) end as tier
        from pgmq.q_email_queue q
       where q.vt <= pg_catalog.clock_timestamp()
    ) t
  )
  select b.account, b.send_limit, b.window_seconds,
         used.n, greatest(b.send_limit - used.n, 0), used.next_slot_at,
         w.tier_0, w.tier_1, w.tier_2
    from automation.email_send_budgets b
    cross join waiting w
    cross join lateral (
      select pg_catalog.count(*)::integer as n,
             pg_catalog.min(s.reserved_at) + pg_catalog.make_interval(secs => b.window_seconds) as next_slot_at
        from automation.email_send_slots s
       where s.account = b.account
         and s.reserved_at > pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => b.window_seconds)
    ) used
   order by b.account;
$$;

comment on function public.email_budget_status(jsonb) is
  'service_role (balansity email budget, the console): per sending account, the send budget, the emails sent in the current window, the slots remaining, when the next slot frees, and the emails waiting per tier (p_tiers as for email_budget_read) (049).';

revoke execute on function public.email_budget_status(jsonb) from public, anon, authenticated;
grant execute on function public.email_budget_status(jsonb) to service_role;

-- Handing a message back is not an attempt: a consumer that paused for a throttling or unreachable
-- transport returns what it had read, and the read that fetched it is taken off read_ct, so the
-- attempt count (read_ct) holds across restarts and replicas.
create function public.pgmq_hand_back(queue_name text, msg_ids bigint[], vt integer)
returns setof bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select 1 from pgmq.meta m where m.queue_name = pgmq_hand_back.queue_name) then
    raise exception 'pgmq_hand_back: queue "%" does not exist', pgmq_hand_back.queue_name using errcode = '22023';
  end if;
  if pgmq_hand_back.vt is null or pgmq_hand_back.vt < 0 then
    raise exception 'pgmq_hand_back: vt must be 0 or more seconds' using errcode = '22023';
  end if;
  return query execute pg_catalog.format(
    'update pgmq.%I set vt = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $2), '
    'read_ct = greatest(read_ct - 1, 0) where msg_id = any($1) returning msg_id',
    'q_' || pgmq_hand_back.queue_name
  ) using pgmq_hand_back.msg_ids, pgmq_hand_back.vt;
end;
$$;

comment on function public.pgmq_hand_back(text, bigint[], integer) is
  'service_role (the worker''s consumers): makes msg_ids visible again after vt seconds and takes the read that fetched them off read_ct: a message handed back during a pause (SMTP throttling, a transport outage) spends no attempt (049). Returns the ids still in the queue.';

revoke execute on function public.pgmq_hand_back(text, bigint[], integer) from public, anon, authenticated;
grant execute on function public.pgmq_hand_back(text, bigint[], integer) to service_role;
