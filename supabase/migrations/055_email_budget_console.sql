-- 055_email_budget_console.sql: the send budget in the operator console, "waiting for the send
-- budget" in the delivery log, and at most 30 emails a minute to one recipient mailbox.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 041/046
-- (the console, the operator role), 049 (the send budget) and 050 (masking).
--
-- 1. automation.email_deliveries gets the status `waiting` (attempts 0): an email the send budget, or
--    the per-mailbox limit, holds back in the queue. public.email_budget_read writes these rows in the
--    same statement that reads the batch (no extra round trip), and removes a row when its email is
--    read (the worker's claim then starts the log of its attempts as for any email).
-- 2. At most `email_recipient_limit_per_minute` (setting, default 30; 0 = off) emails to one recipient
--    address in any 60 seconds, across every replica: mail providers (nic.ru) pause delivery into a
--    mailbox that receives more. Counted with the budget's slots, so it holds only where a send budget
--    is configured (SMTP_SEND_LIMIT): without one the worker reads with plain pgmq reads.
-- 3. public.console_email_budget(): the budget, the waiting emails per tier and in the delivery log,
--    for the web console (operators only).

-- 1. The delivery log's `waiting` rows.
alter table automation.email_deliveries drop constraint email_deliveries_status_check;
alter table automation.email_deliveries
  add constraint email_deliveries_status_check check (status in ('waiting', 'sending', 'sent', 'failed'));
alter table automation.email_deliveries drop constraint email_deliveries_attempts_check;
alter table automation.email_deliveries
  add constraint email_deliveries_attempts_check check (attempts > 0 or (status = 'waiting' and attempts = 0));

comment on column automation.email_deliveries.status is
  'waiting (in the queue, held back by the send budget or the per-mailbox limit; error says which; no attempt yet: 055), sending (claimed by a worker until lease_until), sent (the SMTP server accepted it), failed (the last attempt failed; the queue retries it).';

-- 2. The per-mailbox limit: its setting, and the recipient on each slot.
insert into automation.settings (key, value, description) values
  ('email_recipient_limit_per_minute', '30',
   'Emails to one recipient address in any 60 seconds, across every worker replica (0 = no limit). Holds where a send budget is configured (SMTP_SEND_LIMIT); the rest wait in the queue without spending an attempt.')
on conflict (key) do nothing;

alter table automation.settings
  add constraint settings_email_recipient_limit_check
  check (key <> 'email_recipient_limit_per_minute' or value ~ '^[0-9]{1,9}$');

alter table automation.email_send_slots add column recipient text;
comment on column automation.email_send_slots.recipient is
  'The recipient address (lower case) of the slot''s email: the per-mailbox limit counts these (055). Null on slots taken before 055.';

create or replace function public.email_budget_read(
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
  v_span interval;
  v_next timestamptz;
  v_cap integer;
  -- The per-mailbox limit counts over a minute, plus the same margin for clocks.
  v_rcpt_span interval;
begin
  if p_account is null or p_limit is null or p_limit < 1 or p_window_seconds is null
     or p_window_seconds <= 0 or p_margin_seconds is null or p_margin_seconds < 0 or p_qty is null
     or p_qty < 1 or p_vt is null or p_vt < 0 then
    raise exception 'email_budget_read: p_account, p_limit >= 1, p_window_seconds > 0, p_margin_seconds >= 0, p_qty >= 1 and p_vt >= 0 are required'
      using errcode = '22023';
  end if;
  -- A slot is kept for the window plus a margin for the clocks of the database and the mail server.
  v_span := pg_catalog.make_interval(secs => p_window_seconds + p_margin_seconds);
  v_rcpt_span := pg_catalog.make_interval(secs => 60 + p_margin_seconds);
  v_cap := coalesce((select s.value::integer from automation.settings s
                      where s.key = 'email_recipient_limit_per_minute'), 30);
  if pg_catalog.cardinality(p_archive_ids) > 0 then
    perform pgmq.archive('email_queue', p_archive_ids);
  end if;
  -- One reader per account at a time, whatever the replica: count, choose and reserve as one step.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('email_send_budget:' || p_account, 0));
  v_now := pg_catalog.clock_timestamp();
  -- A slot counts from when the provider saw its email: the delivery log's sent_at (or the time the
  -- send failed), not when it was read. One in flight holds its slot until it is sent, or its
  -- visibility timeout runs out. Kept for the longer of the budget's window and the mailbox minute.
  delete from automation.email_send_slots s
   where s.account = p_account
     and coalesce(
           (select coalesce(d.sent_at, case when d.status = 'failed' and d.updated_at >= s.reserved_at then d.updated_at end)
              from automation.email_deliveries d where d.idempotency_key = s.idempotency_key),
           s.reserved_at + pg_catalog.make_interval(secs => p_vt)
         ) <= v_now - greatest(v_span, case when v_cap > 0 then v_rcpt_span else v_span end);
  select pg_catalog.count(*)::integer,
         -- When one frees: a sent slot at its time plus the window; one in flight, look again in a second.
         pg_catalog.min(case when t.done_at is null then v_now + interval '1 second' else t.done_at + v_span end)
    into v_used, v_next
    from automation.email_send_slots s
    cross join lateral (
      select coalesce(
               (select coalesce(d.sent_at, case when d.status = 'failed' and d.updated_at >= s.reserved_at then d.updated_at end)
                  from automation.email_deliveries d where d.idempotency_key = s.idempotency_key),
               case when s.reserved_at + pg_catalog.make_interval(secs => p_vt) < v_now
                    then s.reserved_at + pg_catalog.make_interval(secs => p_vt) end
             ) as done_at
    ) t
   where s.account = p_account
     and (t.done_at is null or t.done_at > v_now - v_span);
  v_free := greatest(least(p_qty, p_limit - v_used), 0);

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
    select c.msg_id, c.message,
           case when c.message @> '{"priority": 1}' then 0
                else coalesce((p_tiers ->> (c.message ->> 'template'))::smallint, 1) end as tier,
           coalesce(c.message ->> 'user_id', pg_catalog.lower(c.message ->> 'to'), '') as user_key,
           pg_catalog.lower(c.message ->> 'to') as recipient
      from candidates c
  ),
  -- Emails to each recipient in the last minute (in flight ones count until they are done).
  by_recipient as (
    select s.recipient, pg_catalog.count(*) as n,
           pg_catalog.min(case when t.done_at is null then v_now + interval '1 second'
                               else t.done_at + v_rcpt_span end) as frees_at
      from automation.email_send_slots s
      cross join lateral (
        select coalesce(
                 (select coalesce(d.sent_at, case when d.status = 'failed' and d.updated_at >= s.reserved_at then d.updated_at end)
                    from automation.email_deliveries d where d.idempotency_key = s.idempotency_key),
                 case when s.reserved_at + pg_catalog.make_interval(secs => p_vt) < v_now
                      then s.reserved_at + pg_catalog.make_interval(secs => p_vt) end
               ) as done_at
      ) t
     where v_cap > 0
       and s.account = p_account
       and s.recipient is not null
       and (t.done_at is null or t.done_at > v_now - v_rcpt_span)
     group by s.recipient
  ),
  capped as (
    select r.*, b.frees_at,
           v_cap = 0
             or coalesce(b.n, 0) + pg_catalog.row_number() over (partition by r.recipient order by r.tier, r.msg_id) <= v_cap
             as fits
      from ranked r
      left join by_recipient b on b.recipient = r.recipient
  ),
  used_by as (
    select s.user_key, pg_catalog.count(*) as n
      from automation.email_send_slots s
     where s.account = p_account
       and s.reserved_at > v_now - v_span
     group by s.user_key
  ),
  chosen as (
    select r.msg_id, r.tier, r.user_key, r.recipient
      from capped r
      left join used_by u on u.user_key = r.user_key
     where r.fits
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
    returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers, c.tier, c.user_key, c.recipient
  ),
  reserved as (
    insert into automation.email_send_slots (account, reserved_at, msg_id, idempotency_key, tier, user_key, recipient)
    select p_account, v_now, t.msg_id, coalesce(t.message ->> 'idempotency_key', ''), t.tier, t.user_key, t.recipient
      from taken t
  ),
  -- The delivery log shows what waits: held by the per-mailbox limit, or left by a read the budget
  -- (not the batch size) ended. Only emails with no row yet: a failed attempt keeps its row.
  marked as (
    insert into automation.email_deliveries as d (idempotency_key, msg_id, template, recipient, status, attempts, error)
    select c.message ->> 'idempotency_key', c.msg_id, c.message ->> 'template', c.message ->> 'to', 'waiting', 0,
           case when c.fits then 'waiting for the send budget'
                else 'waiting: more than ' || v_cap || ' emails a minute to this mailbox' end
      from capped c
     where (not c.fits or v_free < p_qty)
       and c.message ->> 'idempotency_key' is not null
       and c.message ->> 'template' is not null
       and c.message ->> 'to' is not null
       and not exists (select from taken t where t.msg_id = c.msg_id)
    on conflict (idempotency_key) do nothing
  ),
  -- An email read now no longer waits: its attempts start with the worker's claim.
  cleared as (
    delete from automation.email_deliveries d
     using taken t
     where d.idempotency_key = t.message ->> 'idempotency_key'
       and d.status = 'waiting'
  ),
  counts as (
    select (select pg_catalog.count(*) from taken) as n_taken,
           (select pg_catalog.min(c.frees_at) from capped c where not c.fits) as mailbox_frees_at,
           exists (select from capped c where not c.fits) as held
  )
  select x.msg_id, x.read_ct, x.enqueued_at, x.vt, x.message, x.headers, x.next_slot_at
    from (
      select t.msg_id, t.read_ct, t.enqueued_at, t.vt, t.message, t.headers, null::timestamptz as next_slot_at,
             0 as part, t.tier, t.msg_id as sort_id
        from taken t
      union all
      -- The budget or the per-mailbox limit stopped this read: when to read again (one row, msg_id null).
      select null::bigint, null::integer, null::timestamptz, null::timestamptz, null::jsonb, null::jsonb,
             case
               when k.n_taken >= v_free and v_free < p_qty then
                 case when k.n_taken > 0 then v_now + interval '1 second'
                      else coalesce(v_next, v_now + interval '1 second') end
               else greatest(coalesce(k.mailbox_frees_at, v_now), v_now + interval '1 second')
             end,
             1, 0::smallint, 0::bigint
        from counts k
       where (k.n_taken >= v_free and v_free < p_qty) or k.held
    ) x
   order by x.part, x.tier, x.sort_id;

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
  'service_role (the worker''s email consumer under SMTP_SEND_LIMIT): archives p_archive_ids, then reads from email_queue at most as many messages as the send budget of p_account has free slots (p_limit in any p_window_seconds, each slot kept p_margin_seconds longer) and no more than the setting email_recipient_limit_per_minute to one recipient in any minute, reserving a slot for each, by tier (p_tiers: template -> 0/1/2; priority 1 is 0), fair share per user, age. Emails held back get a waiting row in the delivery log (removed when read). Returns pgmq.read''s columns plus next_slot_at on an extra row (msg_id null) when the budget or the per-mailbox limit stopped the read (049, 055).';

-- 3. The console's view of the budget.
create function public.console_email_budget(tiers jsonb default '{}'::jsonb)
returns table (
  account text,
  send_limit integer,
  window_seconds double precision,
  sent_in_window integer,
  remaining integer,
  next_slot_at timestamptz,
  waiting_tier_0 bigint,
  waiting_tier_1 bigint,
  waiting_tier_2 bigint,
  waiting_for_budget bigint,
  waiting_for_mailbox bigint,
  recipient_limit_per_minute integer
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_budget_waits bigint;
  v_mailbox_waits bigint;
  v_cap integer;
begin
  perform automation.require_operator();
  if tiers is null or pg_catalog.jsonb_typeof(tiers) <> 'object' then
    raise exception 'tiers must be a JSON object of template -> tier (0, 1 or 2)' using errcode = 'invalid_parameter_value';
  end if;
  select pg_catalog.count(*) filter (where d.error = 'waiting for the send budget'),
         pg_catalog.count(*) filter (where d.error is distinct from 'waiting for the send budget')
    into v_budget_waits, v_mailbox_waits
    from automation.email_deliveries d
   where d.status = 'waiting';
  v_cap := coalesce((select s.value::integer from automation.settings s
                      where s.key = 'email_recipient_limit_per_minute'), 30);
  return query
  select automation.mask_text(b.account), b.send_limit, b.window_seconds, b.sent_in_window, b.remaining,
         b.next_slot_at, b.waiting_tier_0, b.waiting_tier_1, b.waiting_tier_2,
         v_budget_waits, v_mailbox_waits, v_cap
    from public.email_budget_status(tiers) b;
  if not found then
    -- No send budget configured (SMTP_SEND_LIMIT off): what waits in the queue, per tier.
    return query
    select null::text, null::integer, null::double precision, null::integer, null::integer, null::timestamptz,
           pg_catalog.count(*) filter (where t.tier = 0), pg_catalog.count(*) filter (where t.tier = 1),
           pg_catalog.count(*) filter (where t.tier = 2), v_budget_waits, v_mailbox_waits, v_cap
      from (
        select case when q.message @> '{"priority": 1}' then 0
                    else coalesce((tiers ->> (q.message ->> 'template'))::smallint, 1) end as tier
          from pgmq.q_email_queue q
         where q.vt <= pg_catalog.clock_timestamp()
      ) t;
  end if;
end;
$$;

comment on function public.console_email_budget(jsonb) is
  'Operator console (operators, service_role): per sending account, the send budget (SMTP_SEND_LIMIT; account masked), emails sent in the current window, slots remaining, when the next frees, emails waiting in the queue per tier (tiers: template -> 0/1/2, as the worker''s), waiting rows of the delivery log (for the budget, for the per-mailbox limit) and that limit. One row with a null account when no budget is configured (055).';

revoke execute on function public.console_email_budget(jsonb) from public, anon, authenticated;
grant execute on function public.console_email_budget(jsonb) to operator, service_role;
