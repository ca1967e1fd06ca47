-- 041_operator_console.sql: what the operator console (apps/console, browser) and the `balansity`
-- CLI read and do, as SQL functions; a per-minute history of queue metrics for its charts.
--
-- Runs unchanged on Supabase Cloud (pgmq 1.5.x, with or without pg_cron) and on local PostgreSQL
-- (the devstack's pgmq-compatible SQL), inside one transaction. Depends on 030 (automation.cron_jobs,
-- settings, job_run_details), 031 (queues, queue_email_task, queue_report_generation), 034
-- (automation.email_deliveries) and, when they run, public.reports (040): PL/pgSQL resolves names
-- when a statement first runs, so this file applies before 040 does.
--
-- Who may call: an operator, i.e. a signed-in user whose JWT carries app_metadata.role = 'operator'
-- (Supabase: auth.users.raw_app_meta_data = {"role": "operator"}, set with the service key or SQL,
-- never by the user), and server-side callers: service_role (the CLI's semantics, supabase-js with
-- the service key), postgres and superusers (the CLI on a direct connection). Every console_*
-- function is security definer, executable by authenticated and service_role only (anon and public
-- get 42501 from PostgreSQL itself), and first calls automation.require_operator(), which refuses
-- any other caller with 'operator role required' (SQLSTATE 42501; PostgREST answers 403).
--
--   function                       what it does
--   is_operator()                  whether the request's JWT is an operator's
--   console_queue_overview         depth, oldest message age, DLQ depth, processed in the last hour
--   console_queue_history          the per-minute samples of automation.queue_metrics_history
--   console_peek_messages          messages waiting in a queue, personal data masked, without reading them
--   console_dead_letters           a queue's dead letters: reason, attempts, original payload (masked)
--   console_dead_letter_ids        ids of a queue's dead letters (optionally one error code): for batches
--   console_retry_dead_letters     moves original payloads back to their queue, atomically
--   console_discard_dead_letters   archives dead letters (kept in pgmq.a_<queue>_dlq until purge-queue-archives)
--   console_cron_jobs / _cron_runs the jobs of automation.cron_jobs, their runs (pg_cron or the worker's scheduler)
--   console_email_deliveries       the worker's delivery log, recipient masked, searchable by address
--   console_queue_test_email       queues one email of a template with its example variables
--   console_reports / console_regenerate_report   recent PDF reports; queue a new one
--
-- Masking (automation.mask_personal_data): any email address in any string becomes a***@d***;
-- values under name keys (name, *_name) become initials (А*** И***); values under free-text keys
-- (description, failure_reason, comment, notes, text, body, feedback, address, phone, answers)
-- become "[hidden: N characters]". Ids, templates, dates, amounts and error codes stay readable.

-- ---------------------------------------------------------------------------------------------
-- Who is calling
-- ---------------------------------------------------------------------------------------------

create function public.is_operator()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role', '') = 'operator'
$$;

comment on function public.is_operator() is
  'True when the request''s JWT carries app_metadata.role = operator (auth.users.raw_app_meta_data, which only the service key or SQL can set). Called by the console after sign-in (authenticated) and by every console_* function.';

revoke execute on function public.is_operator() from public, anon;
grant execute on function public.is_operator() to authenticated, service_role;

create function automation.require_operator()
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- Inside a security definer function current_user is the owner; the `role` setting still holds
  -- what the session switched to (PostgREST: `set role authenticated` / `service_role`), and
  -- 'none' on a direct connection, whose role is then session_user.
  caller text := coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::text);
begin
  if public.is_operator() then
    return;
  end if;
  if caller in ('service_role', 'postgres')
    or caller = current_user::text
    or exists (select from pg_catalog.pg_roles r where r.rolname = caller and r.rolsuper)
  then
    return;
  end if;
  raise exception 'operator role required'
    using errcode = 'insufficient_privilege',
          hint = 'Sign in as a user whose app_metadata.role is operator, or call as service_role.';
end;
$$;

comment on function automation.require_operator() is
  'First statement of every console_* function: returns when the caller is an operator (public.is_operator()) or server-side (service_role, postgres, a superuser, the functions'' owner); otherwise raises ''operator role required'' (SQLSTATE 42501). Not callable by API roles.';

revoke execute on function automation.require_operator() from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Masking personal data
-- ---------------------------------------------------------------------------------------------

create function automation.mask_text(value text)
returns text
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  -- Every email address inside the text: first character of the local part and of the domain.
  select pg_catalog.regexp_replace(
    value,
    '([A-Za-z0-9_''+-])[A-Za-z0-9._%''+-]*@([A-Za-z0-9])[A-Za-z0-9.-]*[A-Za-z0-9]',
    '\1***@\2***',
    'g'
  )
$$;

comment on function automation.mask_text(text) is
  'Masks every email address in value as a***@d*** (first characters kept). Used by the console functions on error messages and payload strings.';

revoke execute on function automation.mask_text(text) from public, anon, authenticated, service_role;

create function automation.mask_personal_data(value jsonb, key text default null)
returns jsonb
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  lowered text := pg_catalog.lower(coalesce(key, ''));
begin
  case pg_catalog.jsonb_typeof(value)
    when 'object' then
      return coalesce(
        (select pg_catalog.jsonb_object_agg(e.key, automation.mask_personal_data(e.value, e.key))
         from pg_catalog.jsonb_each(value) as e),
        '{}'::jsonb
      );
    when 'array' then
      return coalesce(
        (select pg_catalog.jsonb_agg(automation.mask_personal_data(e.value, key) order by e.ordinality)
         from pg_catalog.jsonb_array_elements(value) with ordinality as e),
        '[]'::jsonb
      );
    when 'string' then
      if lowered ~ '(^|_)name$' then
        -- Initials: "Анна Иванова" -> "А*** И***".
        return pg_catalog.to_jsonb(
          (select pg_catalog.string_agg(pg_catalog.left(w.word, 1) || '***', ' ' order by w.n)
           from pg_catalog.regexp_split_to_table(pg_catalog.btrim(value #>> '{}'), '\s+')
             with ordinality as w (word, n)
           where w.word <> '')
        );
      end if;
      if lowered in ('description', 'failure_reason', 'comment', 'comments', 'note', 'notes', 'text',
                     'body', 'feedback', 'address', 'phone', 'answer', 'answers') then
        return pg_catalog.to_jsonb(
          '[hidden: ' || pg_catalog.length(value #>> '{}') || ' characters]'
        );
      end if;
      return pg_catalog.to_jsonb(automation.mask_text(value #>> '{}'));
    else
      return value;
  end case;
end;
$$;

comment on function automation.mask_personal_data(jsonb, text) is
  'A copy of a queue message with personal data masked: email addresses anywhere -> a***@d***, values of name keys (name, *_name) -> initials, values of free-text keys (description, failure_reason, comment(s), note(s), text, body, feedback, address, phone, answer(s)) -> "[hidden: N characters]". key is the key value sits under (recursion). Used by the console functions.';

revoke execute on function automation.mask_personal_data(jsonb, text) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Queue metrics history, sampled every minute
-- ---------------------------------------------------------------------------------------------

create table automation.queue_metrics_history (
  queue_name text not null,
  sampled_at timestamptz not null,
  depth bigint not null,
  oldest_msg_age_seconds integer,
  total_messages bigint not null,
  processed bigint,
  processed_per_minute numeric(14, 2),
  primary key (queue_name, sampled_at)
);

comment on table automation.queue_metrics_history is
  'One row per queue per minute (cron job sample-queue-metrics): depth, oldest message age, messages ever sent, and what left the queue since the previous sample. Kept for the queue_metrics_retention setting (default 7 days). Read by the console through console_queue_history and console_queue_overview.';
comment on column automation.queue_metrics_history.depth is 'Messages in the queue (visible or not), pgmq.metrics queue_length.';
comment on column automation.queue_metrics_history.total_messages is
  'Messages ever sent to the queue (its msg_id sequence, pgmq.metrics total_messages).';
comment on column automation.queue_metrics_history.processed is
  'Messages that left the queue (archived, deleted, dead-lettered) since the previous sample: sent in between minus the growth in depth. Null for a queue''s first sample. A rolled-back send uses up a msg_id, so it can count one too many.';
comment on column automation.queue_metrics_history.processed_per_minute is
  'processed divided by the minutes since the previous sample.';

-- The purge by age.
create index queue_metrics_history_sampled_at_idx on automation.queue_metrics_history (sampled_at);

alter table automation.queue_metrics_history enable row level security;
-- No policy: read through the console functions (security definer) or by service_role (bypassrls).
revoke all on table automation.queue_metrics_history from public, anon, authenticated;
grant select on table automation.queue_metrics_history to service_role;

insert into automation.settings (key, value, description) values
  ('queue_metrics_retention', '7 days',
   'How long the per-minute queue metrics (automation.queue_metrics_history) are kept before sample-queue-metrics deletes them.');

create function automation.sample_queue_metrics(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  retention interval;
  sampled integer;
  purged integer;
begin
  select s.value::interval into retention from automation.settings as s where s.key = 'queue_metrics_retention';
  retention := coalesce(retention, interval '7 days');

  -- One statement for every queue: the live metrics joined to each queue's previous sample (the
  -- primary key makes that lookup an index probe).
  insert into automation.queue_metrics_history as h
    (queue_name, sampled_at, depth, oldest_msg_age_seconds, total_messages, processed, processed_per_minute)
  select m.queue_name, p_now, m.queue_length, m.oldest_msg_age_sec, m.total_messages,
         moved.processed,
         case
           when moved.processed is not null and p_now > previous.sampled_at
             then pg_catalog.round(
               moved.processed / (extract(epoch from p_now - previous.sampled_at) / 60.0), 2)
         end
  from pgmq.meta as q
  cross join lateral pgmq.metrics(q.queue_name) as m
  left join lateral (
    select p.sampled_at, p.depth, p.total_messages
    from automation.queue_metrics_history as p
    where p.queue_name = q.queue_name and p.sampled_at < p_now
    order by p.sampled_at desc
    limit 1
  ) as previous on true
  -- A queue dropped and made again restarts its sequence: no count across that.
  cross join lateral (
    select case
      when previous.total_messages is not null and m.total_messages >= previous.total_messages
        then greatest(0, (m.total_messages - previous.total_messages) - (m.queue_length - previous.depth))
    end as processed
  ) as moved
  on conflict (queue_name, sampled_at) do nothing;
  get diagnostics sampled = row_count;

  delete from automation.queue_metrics_history as h where h.sampled_at < p_now - retention;
  get diagnostics purged = row_count;

  return pg_catalog.jsonb_build_object('sampled', sampled, 'purged', purged);
end;
$$;

comment on function automation.sample_queue_metrics(timestamptz) is
  'Cron job sample-queue-metrics (every minute; pg_cron or the worker''s scheduler as service_role): records every queue''s pgmq.metrics in automation.queue_metrics_history with what was processed since the previous sample, and deletes samples older than the queue_metrics_retention setting (default 7 days). p_now is for tests. Returns {"sampled": n, "purged": n}.';

revoke execute on function automation.sample_queue_metrics(timestamptz) from public, anon, authenticated;
grant execute on function automation.sample_queue_metrics(timestamptz) to service_role;

insert into automation.cron_jobs (name, schedule, command, description) values
  ('sample-queue-metrics', '* * * * *',
   'select automation.sample_queue_metrics()',
   'Every minute: records each queue''s depth, oldest message age and messages processed (automation.queue_metrics_history, the console''s charts) and deletes samples older than the queue_metrics_retention setting (default 7 days).');

-- Where pg_cron is installed in this database, schedule the new job as 030 does; elsewhere the
-- worker's scheduler picks it up from automation.cron_jobs at its next start.
do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform automation.schedule_cron_jobs();
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Queue name checks shared by the console functions
-- ---------------------------------------------------------------------------------------------

create function automation.console_queue_table(queue_name text, dead_letters boolean)
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  target text := case when dead_letters then queue_name || '_dlq' else queue_name end;
begin
  if queue_name is null or not exists (select from pgmq.meta m where m.queue_name = console_queue_table.queue_name) then
    raise exception 'queue_name "%" is not a queue (console_queue_overview lists them)', coalesce(queue_name, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if dead_letters and not exists (select from pgmq.meta m where m.queue_name = target) then
    raise exception 'queue_name "%" has no dead-letter queue "%" (name the main queue, e.g. email_queue)',
      queue_name, target
      using errcode = 'invalid_parameter_value';
  end if;
  return pgmq.format_table_name(target, 'q');
end;
$$;

comment on function automation.console_queue_table(text, boolean) is
  'The pgmq table name of queue_name (dead_letters: of its <queue>_dlq), after checking both exist; 22023 naming queue_name otherwise. Used by the console functions.';

revoke execute on function automation.console_queue_table(text, boolean) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Queues
-- ---------------------------------------------------------------------------------------------

create function public.console_queue_overview()
returns table (
  queue_name text,
  depth bigint,
  oldest_msg_age_seconds integer,
  dlq_depth bigint,
  processed_last_hour bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform automation.require_operator();
  return query
  select q.queue_name::text, m.queue_length, m.oldest_msg_age_sec, d.queue_length,
         coalesce(
           (select sum(h.processed)::bigint
            from automation.queue_metrics_history as h
            where h.queue_name = q.queue_name and h.sampled_at > pg_catalog.now() - interval '1 hour'),
           0
         )
  from pgmq.meta as q
  cross join lateral pgmq.metrics(q.queue_name) as m
  left join lateral (
    select dm.queue_length
    from pgmq.meta as dq
    cross join lateral pgmq.metrics(dq.queue_name) as dm
    where dq.queue_name = q.queue_name || '_dlq'
  ) as d on true
  where q.queue_name !~ '_dlq$'
  order by q.queue_name;
end;
$$;

comment on function public.console_queue_overview() is
  'Operator console (operators, service_role): one row per queue (dead-letter queues are columns, not rows): depth, age of the oldest message in seconds (null when empty), depth of its <queue>_dlq, messages processed in the last hour (from the per-minute samples; 0 before the first).';

create function public.console_queue_history(queue_name text, hours integer default 6)
returns table (sampled_at timestamptz, queue_name text, depth bigint, processed_per_minute numeric)
language sql
stable
security definer
set search_path = ''
as $$
  -- SQL, not PL/pgSQL: the argument and the result column share the name queue_name, which
  -- PL/pgSQL refuses. The check runs first: a refused caller gets no rows, only the error.
  select automation.require_operator();
  select h.sampled_at, h.queue_name, h.depth, h.processed_per_minute
  from automation.queue_metrics_history as h
  where (console_queue_history.queue_name is null or h.queue_name = console_queue_history.queue_name)
    and h.sampled_at > pg_catalog.now()
      - pg_catalog.make_interval(hours => least(greatest(coalesce(console_queue_history.hours, 6), 1), 168))
  order by h.queue_name, h.sampled_at;
$$;

comment on function public.console_queue_history(text, integer) is
  'Operator console (operators, service_role): the per-minute samples of queue_name (null: every queue) over the last hours (1..168, default 6): depth and processed per minute, oldest first.';

create function public.console_peek_messages(queue_name text, max_count integer default 50)
returns table (msg_id bigint, enqueued_at timestamptz, read_ct integer, vt timestamptz, message jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  queue_table text;
begin
  perform automation.require_operator();
  queue_table := automation.console_queue_table(console_peek_messages.queue_name, false);
  if max_count is null or max_count not between 1 and 1000 then
    raise exception 'max_count must be between 1 and 1000 (got %)', coalesce(max_count::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  -- A plain select: peeking neither hides a message (vt) nor counts as a read (read_ct).
  return query execute pg_catalog.format(
    'select q.msg_id, q.enqueued_at, q.read_ct, q.vt, automation.mask_personal_data(q.message)
     from pgmq.%I as q order by q.msg_id limit $1',
    queue_table
  ) using max_count;
end;
$$;

comment on function public.console_peek_messages(text, integer) is
  'Operator console (operators, service_role): the first max_count (1..1000, default 50) messages of queue_name (any queue, dead-letter queues too) in msg_id order, personal data masked (automation.mask_personal_data). Does not read them: vt and read_ct are unchanged.';

-- ---------------------------------------------------------------------------------------------
-- Dead letters
-- ---------------------------------------------------------------------------------------------

create function public.console_dead_letters(queue_name text, max_count integer default 100, search text default null)
returns table (
  msg_id bigint,
  enqueued_at timestamptz,
  error_code text,
  error_message text,
  attempts integer,
  payload jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  dlq_table text;
begin
  perform automation.require_operator();
  dlq_table := automation.console_queue_table(console_dead_letters.queue_name, true);
  if max_count is null or max_count not between 1 and 1000 then
    raise exception 'max_count must be between 1 and 1000 (got %)', coalesce(max_count::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  -- search matches the error and the unmasked payload (an operator may look for an address), case
  -- insensitively; what is shown is masked.
  return query execute pg_catalog.format(
    $sql$
    select d.msg_id, d.enqueued_at, d.message #>> '{error,code}',
           automation.mask_text(d.message #>> '{error,message}'),
           (d.message ->> 'attempts')::integer,
           automation.mask_personal_data(d.message -> 'message')
    from pgmq.%I as d
    where $2 is null
       or pg_catalog.strpos(pg_catalog.lower(d.message::text), pg_catalog.lower($2)) > 0
    order by d.msg_id
    limit $1
    $sql$,
    dlq_table
  ) using max_count, nullif(pg_catalog.btrim(search), '');
end;
$$;

comment on function public.console_dead_letters(text, integer, text) is
  'Operator console (operators, service_role): dead letters of queue_name (the main queue, e.g. email_queue; they live in <queue>_dlq) in msg_id order, up to max_count (1..1000): error code and message, attempts, the original message as payload; personal data masked. search: case-insensitive text in the error or the (unmasked) payload.';

create function public.console_dead_letter_ids(queue_name text, error_code text default null)
returns setof bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  dlq_table text;
begin
  perform automation.require_operator();
  dlq_table := automation.console_queue_table(console_dead_letter_ids.queue_name, true);
  return query execute pg_catalog.format(
    'select d.msg_id from pgmq.%I as d where $1 is null or d.message #>> ''{error,code}'' = $1 order by d.msg_id',
    dlq_table
  ) using console_dead_letter_ids.error_code;
end;
$$;

comment on function public.console_dead_letter_ids(text, text) is
  'Operator console and CLI (operators, service_role): msg_ids of every dead letter of queue_name (optionally only error_code), in order; the CLI retries or discards them in batches with a progress bar.';

create function public.console_retry_dead_letters(
  queue_name text,
  msg_ids bigint[] default null,
  error_code text default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  dlq_table text;
  moved integer;
  originals jsonb[];
begin
  perform automation.require_operator();
  dlq_table := automation.console_queue_table(console_retry_dead_letters.queue_name, true);

  -- One transaction: the dead letters are deleted and their original messages sent in the same
  -- function, so a failure leaves both where they were. A dead letter retried or discarded
  -- concurrently is waited for, then skipped (the delete re-checks the row). Entries without an
  -- original message object (not written by pgmq_dead_letter) stay.
  execute pg_catalog.format(
    $sql$
    with picked as (
      delete from pgmq.%I as d
      where ($1::bigint[] is null or d.msg_id = any ($1))
        and ($2::text is null or d.message #>> '{error,code}' = $2)
        and pg_catalog.jsonb_typeof(d.message -> 'message') = 'object'
      returning d.msg_id, d.message -> 'message' as original
    )
    select count(*)::integer, pg_catalog.array_agg(p.original order by p.msg_id) from picked as p
    $sql$,
    dlq_table
  )
  into moved, originals
  using console_retry_dead_letters.msg_ids, console_retry_dead_letters.error_code;

  if moved > 0 then
    -- The original message as it was (same idempotency key), so a side effect that did happen is
    -- not repeated; the worker counts attempts afresh.
    perform pgmq.send_batch(console_retry_dead_letters.queue_name, originals);
  end if;
  return moved;
end;
$$;

comment on function public.console_retry_dead_letters(text, bigint[], text) is
  'Operator console and CLI (operators, service_role): moves dead letters of queue_name back to queue_name as their original messages, atomically (deleted from <queue>_dlq, sent with pgmq.send_batch, in one transaction). msg_ids null = every dead letter; error_code narrows to that code. Returns how many moved (ids not found are skipped).';

create function public.console_discard_dead_letters(
  queue_name text,
  msg_ids bigint[] default null,
  error_code text default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  dlq text := console_discard_dead_letters.queue_name || '_dlq';
  dlq_table text;
  picked bigint[];
  discarded integer;
begin
  perform automation.require_operator();
  dlq_table := automation.console_queue_table(console_discard_dead_letters.queue_name, true);

  execute pg_catalog.format(
    $sql$
    select pg_catalog.array_agg(d.msg_id order by d.msg_id)
    from pgmq.%I as d
    where ($1::bigint[] is null or d.msg_id = any ($1))
      and ($2::text is null or d.message #>> '{error,code}' = $2)
    $sql$,
    dlq_table
  )
  into picked
  using console_discard_dead_letters.msg_ids, console_discard_dead_letters.error_code;

  if picked is null then
    return 0;
  end if;
  -- Archived, not deleted: kept for audit in pgmq.a_<queue>_dlq until purge-queue-archives. One
  -- retried concurrently is no longer there and is not counted.
  select count(*)::integer into discarded from pgmq.archive(dlq, picked);
  return discarded;
end;
$$;

comment on function public.console_discard_dead_letters(text, bigint[], text) is
  'Operator console and CLI (operators, service_role): discards dead letters of queue_name (moved to the archive pgmq.a_<queue>_dlq, deleted by purge-queue-archives after archive_retention). msg_ids null = every dead letter; error_code narrows to that code. Returns how many were discarded.';

-- ---------------------------------------------------------------------------------------------
-- Scheduled jobs
-- ---------------------------------------------------------------------------------------------

create function public.console_cron_jobs()
returns table (
  jobname text,
  schedule text,
  active boolean,
  source text,
  last_run_at timestamptz,
  last_status text,
  last_message text,
  failures_24h integer
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform automation.require_operator();
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    -- pg_cron runs the jobs: its cron.job (active) and run history. Statements naming cron.* are
    -- planned only when they run, so this function exists where pg_cron does not.
    return query
    select j.name, j.schedule, coalesce(c.active, false), 'pg_cron'::text,
           latest.start_time, latest.status, automation.mask_text(latest.return_message),
           (select count(*)::integer from cron.job_run_details as f
            where f.jobid = c.jobid and f.status = 'failed' and f.start_time > pg_catalog.now() - interval '24 hours')
    from automation.cron_jobs as j
    left join lateral (
      select cj.jobid, cj.active from cron.job as cj where cj.jobname = j.name order by cj.jobid desc limit 1
    ) as c on true
    left join lateral (
      select r.start_time, r.status, r.return_message
      from cron.job_run_details as r where r.jobid = c.jobid order by r.start_time desc nulls last limit 1
    ) as latest on true
    order by j.name;
  else
    return query
    select j.name, j.schedule, j.enabled, 'worker'::text,
           latest.start_time, latest.status, automation.mask_text(latest.return_message),
           (select count(*)::integer from automation.job_run_details as f
            where f.job_name = j.name and f.status = 'failed' and f.start_time > pg_catalog.now() - interval '24 hours')
    from automation.cron_jobs as j
    left join lateral (
      select r.start_time, r.status, r.return_message
      from automation.job_run_details as r where r.job_name = j.name order by r.start_time desc limit 1
    ) as latest on true
    order by j.name;
  end if;
end;
$$;

comment on function public.console_cron_jobs() is
  'Operator console and CLI (operators, service_role): every job of automation.cron_jobs with its schedule, whether it is active, who runs it (source pg_cron or worker: the worker''s fallback scheduler where pg_cron is not installed), its last run (time, status, message) and its failed runs in the last 24 hours.';

create function public.console_cron_runs(jobname text, max_count integer default 20)
returns table (started_at timestamptz, finished_at timestamptz, status text, message text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform automation.require_operator();
  if max_count is null or max_count not between 1 and 1000 then
    raise exception 'max_count must be between 1 and 1000 (got %)', coalesce(max_count::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if not exists (select from automation.cron_jobs as j where j.name = console_cron_runs.jobname) then
    raise exception 'jobname "%" is not a job (console_cron_jobs lists them)', coalesce(jobname, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    return query
    select r.start_time, r.end_time, r.status, automation.mask_text(r.return_message)
    from cron.job_run_details as r
    where r.jobid in (select cj.jobid from cron.job as cj where cj.jobname = console_cron_runs.jobname)
    order by r.start_time desc nulls last
    limit max_count;
  else
    return query
    select r.start_time, r.end_time, r.status, automation.mask_text(r.return_message)
    from automation.job_run_details as r
    where r.job_name = console_cron_runs.jobname
    order by r.start_time desc
    limit max_count;
  end if;
end;
$$;

comment on function public.console_cron_runs(text, integer) is
  'Operator console and CLI (operators, service_role): the last max_count (1..1000, default 20) runs of job jobname, newest first, from cron.job_run_details (pg_cron) or automation.job_run_details (the worker''s scheduler).';

-- ---------------------------------------------------------------------------------------------
-- Email
-- ---------------------------------------------------------------------------------------------

create function public.console_email_deliveries(search text default null, max_count integer default 100)
returns table (
  idempotency_key text,
  msg_id bigint,
  template text,
  recipient text,
  status text,
  attempts integer,
  error text,
  created_at timestamptz,
  updated_at timestamptz,
  sent_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  pattern text := nullif(pg_catalog.btrim(search), '');
begin
  perform automation.require_operator();
  if max_count is null or max_count not between 1 and 1000 then
    raise exception 'max_count must be between 1 and 1000 (got %)', coalesce(max_count::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  -- search: part of the recipient's address (case-insensitive), a template or a status.
  return query
  select d.idempotency_key, d.msg_id, d.template, automation.mask_text(d.recipient), d.status, d.attempts,
         automation.mask_text(d.error), d.created_at, d.updated_at, d.sent_at
  from automation.email_deliveries as d
  where pattern is null
     or pg_catalog.strpos(pg_catalog.lower(d.recipient), pg_catalog.lower(pattern)) > 0
     or d.template = pattern
     or d.status = pattern
  order by d.created_at desc
  limit max_count;
end;
$$;

comment on function public.console_email_deliveries(text, integer) is
  'Operator console (operators, service_role): the newest max_count (1..1000, default 100) rows of the worker''s delivery log (automation.email_deliveries), recipient and error masked. search: part of the recipient address (case-insensitive), or a template or status name.';

create function public.console_queue_test_email(to_address text, template text, locale text default 'ru')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- The example variables of each template, equal to emailTemplateExamples in
  -- packages/emails/src/template-examples.ts (a test compares them).
  examples constant jsonb := $json${
    "checkup_completed": {
      "user_name": "Анна", "assessment_id": "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
      "assessment_title": "Баланс жизни", "completed_at": "2026-11-24T09:30:00Z",
      "results_url": "https://app.balansity.ru/checkups/9b2f6c1e", "app_url": "https://app.balansity.ru"
    },
    "report_ready": {
      "user_name": "Анна", "assessment_id": "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
      "assessment_title": "Баланс жизни", "report_url": "https://app.balansity.ru/reports/9b2f6c1e.pdf",
      "expires_at": "2026-12-01T09:30:00Z", "app_url": "https://app.balansity.ru"
    },
    "appointment_confirmation": {
      "user_name": "Анна", "appointment_id": "apt-1024", "starts_at": "2026-11-25T12:00:00Z",
      "ends_at": "2026-11-25T13:00:00Z", "consultant_name": "Мария Иванова",
      "meeting_url": "https://meet.balansity.ru/apt-1024",
      "manage_url": "https://app.balansity.ru/appointments/apt-1024", "app_url": "https://app.balansity.ru"
    },
    "appointment_reminder_24h": {
      "user_name": "Анна", "appointment_id": "apt-1024", "starts_at": "2026-11-25T12:00:00Z",
      "ends_at": "2026-11-25T13:00:00Z", "consultant_name": "Мария Иванова",
      "meeting_url": "https://meet.balansity.ru/apt-1024",
      "manage_url": "https://app.balansity.ru/appointments/apt-1024", "app_url": "https://app.balansity.ru"
    },
    "appointment_reminder_1h": {
      "user_name": "Анна", "appointment_id": "apt-1024", "starts_at": "2026-11-25T12:00:00Z",
      "ends_at": "2026-11-25T13:00:00Z", "consultant_name": "Мария Иванова",
      "meeting_url": "https://meet.balansity.ru/apt-1024",
      "manage_url": "https://app.balansity.ru/appointments/apt-1024", "app_url": "https://app.balansity.ru"
    },
    "payment_succeeded": {
      "user_name": "Анна", "payment_id": "pay-7781", "amount": 4500, "currency": "RUB",
      "description": "Консультация 25 ноября", "paid_at": "2026-11-20T07:15:00Z",
      "receipt_url": "https://pay.balansity.ru/receipts/pay-7781", "app_url": "https://app.balansity.ru"
    },
    "payment_failed": {
      "user_name": "Анна", "payment_id": "pay-7782", "amount": 4500, "currency": "RUB",
      "description": "Консультация 25 ноября", "failure_reason": "Недостаточно средств на карте",
      "retry_url": "https://app.balansity.ru/payments/pay-7782/retry", "app_url": "https://app.balansity.ru"
    }
  }$json$;
begin
  perform automation.require_operator();
  if template is null or not (examples ? template) then
    raise exception 'template "%" is unknown (expected one of %)', coalesce(template, 'null'),
      (select pg_catalog.string_agg(k, ', ' order by k) from pg_catalog.jsonb_object_keys(examples) as k)
      using errcode = 'invalid_parameter_value';
  end if;
  -- queue_email_task checks the address and the locale and names them in its error (22023).
  return public.queue_email_task(
    "to" => to_address,
    subject => null,
    template => console_queue_test_email.template,
    variables => examples -> console_queue_test_email.template,
    priority => 1,
    locale => coalesce(console_queue_test_email.locale, 'ru'),
    -- Given, so that queue_email_task does not look for a profile of the address (which replaces
    -- the locale too when none matches).
    timezone => 'Europe/Moscow',
    idempotency_key => 'console_test_email:' || pg_catalog.gen_random_uuid()::text
  );
end;
$$;

comment on function public.console_queue_test_email(text, text, text) is
  'Operator console and CLI (operators, service_role): queues one email of template (ru or en) to to_address with the template''s example variables, high priority, through queue_email_task; returns its msg_id. An unknown template, a bad address or locale raise 22023.';

-- ---------------------------------------------------------------------------------------------
-- Reports (public.reports is created by 040_reports.sql)
-- ---------------------------------------------------------------------------------------------

create function public.console_reports(max_count integer default 50)
returns table (
  id uuid,
  assessment_id uuid,
  user_id uuid,
  storage_path text,
  size_bytes integer,
  created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform automation.require_operator();
  if max_count is null or max_count not between 1 and 1000 then
    raise exception 'max_count must be between 1 and 1000 (got %)', coalesce(max_count::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  return query
  select r.id, r.assessment_id, r.user_id, r.storage_path, r.size_bytes, r.created_at
  from public.reports as r
  order by r.created_at desc, r.id
  limit max_count;
end;
$$;

comment on function public.console_reports(integer) is
  'Operator console (operators, service_role): the newest max_count (1..1000, default 50) PDF reports of public.reports.';

create function public.console_regenerate_report(assessment_id uuid)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  owner_id uuid;
  assessment_status text;
begin
  perform automation.require_operator();
  select a.user_id, a.status into owner_id, assessment_status
  from public.assessments as a
  where a.id = console_regenerate_report.assessment_id;
  if not found then
    raise exception 'assessment % not found', coalesce(console_regenerate_report.assessment_id::text, 'null')
      using errcode = 'no_data_found';
  end if;
  if assessment_status <> 'completed' then
    raise exception 'assessment % is not completed (status %): a report is made once it is',
      console_regenerate_report.assessment_id, assessment_status
      using errcode = 'invalid_parameter_value';
  end if;
  -- A fresh idempotency key: a regeneration is a new report, never deduplicated against the last.
  return public.queue_report_generation(
    assessment_id => console_regenerate_report.assessment_id,
    user_id => owner_id,
    report_type => 'pdf',
    idempotency_key => 'console_regenerate:' || pg_catalog.gen_random_uuid()::text,
    requested_by => 'service'
  );
end;
$$;

comment on function public.console_regenerate_report(uuid) is
  'Operator console and CLI (operators, service_role): queues a new PDF report of a completed checkup for its owner (queue_report_generation, requested_by service); returns the msg_id. P0002 when the checkup does not exist, 22023 while it is not completed.';

-- ---------------------------------------------------------------------------------------------
-- Grants: authenticated (operators, checked inside) and service_role; nobody else
-- ---------------------------------------------------------------------------------------------

do $$
declare
  fn regprocedure;
begin
  for fn in
    select p.oid::regprocedure
    from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and p.proname like 'console\_%'
  loop
    execute pg_catalog.format('revoke execute on function %s from public, anon', fn);
    execute pg_catalog.format('grant execute on function %s to authenticated, service_role', fn);
  end loop;
end
$$;
