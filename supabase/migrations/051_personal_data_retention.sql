-- 051_personal_data_retention.sql: personal data is kept no longer than its retention setting, and
-- one user's data can be erased on request.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL with or without pg_cron, inside one
-- transaction. Needs 030 (settings, cron jobs), 031 (queues), 034 (delivery log), 036 (analytics),
-- 039 (user_work_counts), 040 (reports, report_requests) and 048 (payment notifications).
--
--   automation.purge_personal_data   cron job purge-personal-data (hourly at :15): drops recipient
--                                    addresses from the delivery log (rows and counts kept), deletes
--                                    processed events, report requests, old dead letters, payment
--                                    notifications, daily-active-user rows and per-user counters past
--                                    their *_retention settings, at most retention_batch_size rows per
--                                    table per run
--   public.erase_user_data           `balansity user erase <id>`: one user's messages (every queue, its
--                                    dead letters and archives), delivery-log addresses, analytics,
--                                    report requests and report rows, in one transaction
--
-- Archived queue messages keep their own job and setting (030: purge-queue-archives, archive_retention).
-- The app's tables (profiles, assessments, appointments, payments) are erased by deleting the auth user:
-- 001 cascades profiles -> assessments, appointments (and 040's reports, report_requests); payments
-- keep the money record with user_id set null. docs/personal-data.md says what lives where and why.

-- ---------------------------------------------------------------------------------------------
-- The delivery log keeps its rows without the address
-- ---------------------------------------------------------------------------------------------

-- Null = removed by retention or erasure; the row (template, status, times) still counts.
alter table automation.email_deliveries alter column recipient drop not null;

comment on column automation.email_deliveries.recipient is
  'The address the email went to; null once removed (after the email_recipient_retention setting by purge-personal-data, or by public.erase_user_data). The row is kept for counts.';

-- The purge's candidates: rows still holding an address, oldest first. The set stays at about one
-- retention's worth of mail, however long the log grows.
create index email_deliveries_recipient_created_at_idx
  on automation.email_deliveries (created_at) where recipient is not null;

-- The purges by age of the tables that had no index on their time.
create index report_requests_requested_at_idx on automation.report_requests (requested_at);
create index payment_notifications_received_at_idx on automation.payment_notifications (received_at);
create index daily_active_users_user_id_idx on analytics.daily_active_users (user_id);

-- ---------------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------------

insert into automation.settings (key, value, description) values
  ('email_recipient_retention', '30 days',
   'How long the email delivery log (automation.email_deliveries) keeps a recipient''s address; then purge-personal-data removes it (and addresses quoted in error and smtp_response) and keeps the row for counts.'),
  ('processed_event_retention', '30 days',
   'How long analytics.processed_events keeps the idempotency keys of counted events (a duplicate arriving later would count twice); then purge-personal-data deletes them.'),
  ('report_request_retention', '90 days',
   'How long automation.report_requests keeps who asked for which report; then purge-personal-data deletes them (never sooner than report_request_window, which the per-user limit counts over).'),
  ('dead_letter_retention', '30 days',
   'How long a dead letter (pgmq.q_<queue>_dlq) waits for an operator to retry or discard it; then purge-personal-data archives it (kept archive_retention more, then deleted by purge-queue-archives).'),
  ('payment_notification_retention', '180 days',
   'How long automation.payment_notifications (provider notifications and refused ones, linked to a payment) are kept; then purge-personal-data deletes them. The payment itself stays in public.payments.'),
  ('daily_active_user_retention', '400 days',
   'How long analytics.daily_active_users keeps which user was active on which day (a year on year comparison); then purge-personal-data deletes the rows. daily_event_counts holds no user and is kept.'),
  ('retention_batch_size', '10000',
   'Rows purge-personal-data changes per table per run (it runs hourly): bounds each run''s locks and WAL; a backlog drains over several runs.')
on conflict (key) do nothing;

alter table automation.settings
  add constraint settings_retention_batch_size_check
  check (key <> 'retention_batch_size' or value ~ '^[1-9][0-9]{0,6}$');

-- ---------------------------------------------------------------------------------------------
-- automation.remove_addresses: addresses out of free text
-- ---------------------------------------------------------------------------------------------

create function automation.remove_addresses(value text)
returns text
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  select pg_catalog.regexp_replace(value, '[A-Za-z0-9._%''+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*', '[address removed]', 'g')
$$;

comment on function automation.remove_addresses(text) is
  'Internal (purge_personal_data, erase_user_data): value with every email address replaced by [address removed] (an SMTP reply often quotes the recipient).';

revoke execute on function automation.remove_addresses(text) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.purge_personal_data: the cron job
-- ---------------------------------------------------------------------------------------------

create function automation.purge_personal_data(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  batch integer := coalesce(
    (select s.value::integer from automation.settings as s where s.key = 'retention_batch_size'), 10000);
  -- A missing setting means the default, never "keep forever".
  recipient_cutoff timestamptz := p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'email_recipient_retention'), interval '30 days');
  event_cutoff timestamptz := p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'processed_event_retention'), interval '30 days');
  -- The per-user report limit counts requests over report_request_window: never purge inside it.
  request_cutoff timestamptz := p_now - greatest(
    coalesce((select s.value::interval from automation.settings as s where s.key = 'report_request_retention'), interval '90 days'),
    coalesce((select s.value::interval from automation.settings as s where s.key = 'report_request_window'), interval '1 day'));
  dead_letter_cutoff timestamptz := p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'dead_letter_retention'), interval '30 days');
  notification_cutoff timestamptz := p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'payment_notification_retention'), interval '180 days');
  active_cutoff date := (p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'daily_active_user_retention'), interval '400 days'))::date;
  counts_cutoff timestamptz := p_now - coalesce(
    (select s.value::interval from automation.settings as s where s.key = 'user_work_counts_retention'), interval '7 days');
  n integer;
  dead_letters integer := 0;
  queue record;
  summary jsonb := '{}';
  more boolean := false;
begin
  -- Each step takes at most `batch` of its oldest rows (an index on the time column finds them) and
  -- skips rows another transaction holds; what is left is taken by the next run.

  with due as (
    select d.idempotency_key from automation.email_deliveries as d
    where d.recipient is not null and d.created_at < recipient_cutoff
    order by d.created_at limit batch for update skip locked
  )
  update automation.email_deliveries as d
  set recipient = null,
      error = automation.remove_addresses(d.error),
      smtp_response = automation.remove_addresses(d.smtp_response)
  from due where d.idempotency_key = due.idempotency_key;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('email_recipients_removed', n);
  more := more or n = batch;

  with due as (
    select e.idempotency_key from analytics.processed_events as e
    where e.processed_at < event_cutoff
    order by e.processed_at limit batch for update skip locked
  )
  delete from analytics.processed_events as e using due where e.idempotency_key = due.idempotency_key;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('processed_events', n);
  more := more or n = batch;

  with due as (
    select r.id from automation.report_requests as r
    where r.requested_at < request_cutoff
    order by r.requested_at limit batch for update skip locked
  )
  delete from automation.report_requests as r using due where r.id = due.id;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('report_requests', n);
  more := more or n = batch;

  with due as (
    select p.id from automation.payment_notifications as p
    where p.received_at < notification_cutoff
    order by p.received_at limit batch for update skip locked
  )
  delete from automation.payment_notifications as p using due where p.id = due.id;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('payment_notifications', n);
  more := more or n = batch;

  with due as (
    select a.day, a.user_id from analytics.daily_active_users as a
    where a.day < active_cutoff
    order by a.day limit batch for update skip locked
  )
  delete from analytics.daily_active_users as a using due where a.day = due.day and a.user_id = due.user_id;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('daily_active_users', n);
  more := more or n = batch;

  -- 039 drops a user's old counters at their next write; these are the users who never wrote again.
  with due as (
    select c.user_id, c.window_start from automation.user_work_counts as c
    where c.window_start < counts_cutoff
    order by c.window_start limit batch for update skip locked
  )
  delete from automation.user_work_counts as c
  using due where c.user_id = due.user_id and c.window_start = due.window_start;
  get diagnostics n = row_count;
  summary := summary || pg_catalog.jsonb_build_object('user_work_counts', n);
  more := more or n = batch;

  -- Dead letters nobody retried or discarded: archived as console_discard_dead_letters does, so they
  -- stay for audit until purge-queue-archives (archive_retention) deletes them.
  if pg_catalog.to_regclass('pgmq.meta') is not null then
    for queue in select m.queue_name from pgmq.meta as m where m.queue_name ~ '_dlq$' order by m.queue_name loop
      execute pg_catalog.format(
        'select pg_catalog.count(*) from pgmq.archive(%L, array(
           select d.msg_id from pgmq.%I as d where d.enqueued_at < $1 order by d.msg_id limit $2))',
        queue.queue_name, 'q_' || queue.queue_name)
        into n using dead_letter_cutoff, batch;
      dead_letters := dead_letters + n;
      more := more or n = batch;
    end loop;
  end if;
  summary := summary || pg_catalog.jsonb_build_object('dead_letters_archived', dead_letters);

  return summary || pg_catalog.jsonb_build_object('more', more);
end;
$$;

comment on function automation.purge_personal_data(timestamptz) is
  'Cron job purge-personal-data (hourly at :15; pg_cron or the worker''s scheduler as service_role): removes recipient addresses from automation.email_deliveries older than email_recipient_retention (rows kept), deletes analytics.processed_events, automation.report_requests, automation.payment_notifications, analytics.daily_active_users and automation.user_work_counts rows past processed_event_retention, report_request_retention, payment_notification_retention, daily_active_user_retention and user_work_counts_retention, and archives dead letters past dead_letter_retention; at most retention_batch_size rows per table per run. p_now is for tests. Returns the rows changed per place and "more": true when a table had more than one batch due.';

revoke execute on function automation.purge_personal_data(timestamptz) from public, anon, authenticated;
grant execute on function automation.purge_personal_data(timestamptz) to service_role;

insert into automation.cron_jobs (name, schedule, command, description) values
  ('purge-personal-data', '15 * * * *',
   'select automation.purge_personal_data()',
   'Every hour at :15: removes recipient addresses from the email delivery log after email_recipient_retention (30 days) keeping the rows, deletes processed events, report requests, payment notifications, daily-active-user rows and per-user counters past their *_retention settings, and archives dead letters past dead_letter_retention; retention_batch_size rows per table per run.');

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
-- public.erase_user_data: one user's data, on request
-- ---------------------------------------------------------------------------------------------

create function public.erase_user_data(p_user_id uuid, p_email text default null, p_dry_run boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  addresses text[];
  -- A queue message names the user by id (user_id, a storage path, a key) or by an address as a
  -- whole value: anna@x.ru never matches joanna@x.ru.
  pattern text;
  queue record;
  n integer;
  counts jsonb := '{}';
  paths text[];
begin
  if p_user_id is null then
    raise exception 'erase_user_data: p_user_id is required' using errcode = 'invalid_parameter_value';
  end if;
  if p_email is not null and not public.is_email_address(p_email) then
    raise exception 'erase_user_data: p_email "%" is not an email address', p_email
      using errcode = 'invalid_parameter_value';
  end if;
  -- The profile's address, and the one given (the profile may be gone already, or the address changed).
  select pg_catalog.array_agg(distinct pg_catalog.lower(a)) filter (where a is not null) into addresses
  from (select p.email as a from public.profiles as p where p.id = p_user_id
        union all select p_email) as given;
  addresses := coalesce(addresses, '{}');
  pattern := pg_catalog.array_to_string(array[pg_catalog.lower(p_user_id::text)] || array(
    select '(^|[^a-z0-9._%+''-])'
           || pg_catalog.regexp_replace(a, '([.+*?^$()\[\]{}|\\-])', '\\\1', 'g')
           || '($|[^a-z0-9.-])'
    from pg_catalog.unnest(addresses) as a), '|');

  -- Every queue (dead-letter queues included) and its archive.
  if pg_catalog.to_regclass('pgmq.meta') is not null then
    for queue in
      select t.name from pgmq.meta as m
      cross join lateral (values ('q_' || m.queue_name), ('a_' || m.queue_name)) as t (name)
      where pg_catalog.to_regclass(pg_catalog.format('pgmq.%I', t.name)) is not null
      order by 1
    loop
      if p_dry_run then
        execute pg_catalog.format(
          'select pg_catalog.count(*) from pgmq.%I as m where pg_catalog.lower(m.message::text) ~ $1', queue.name)
          into n using pattern;
      else
        execute pg_catalog.format(
          'delete from pgmq.%I as m where pg_catalog.lower(m.message::text) ~ $1', queue.name)
          using pattern;
        get diagnostics n = row_count;
      end if;
      counts := counts || pg_catalog.jsonb_build_object('pgmq.' || queue.name, n);
    end loop;
  end if;

  -- The delivery log keeps the rows (counts), without the address.
  if p_dry_run then
    select pg_catalog.count(*) into n from automation.email_deliveries as d
    where pg_catalog.lower(d.recipient) = any (addresses);
  else
    update automation.email_deliveries as d
    set recipient = null,
        error = automation.remove_addresses(d.error),
        smtp_response = automation.remove_addresses(d.smtp_response)
    where pg_catalog.lower(d.recipient) = any (addresses);
    get diagnostics n = row_count;
  end if;
  counts := counts || pg_catalog.jsonb_build_object('automation.email_deliveries (address removed)', n);

  select pg_catalog.array_agg(r.storage_path order by r.storage_path) into paths
  from public.reports as r where r.user_id = p_user_id;

  if p_dry_run then
    counts := counts || pg_catalog.jsonb_build_object(
      'automation.email_send_slots', (select pg_catalog.count(*) from automation.email_send_slots as s
        where s.user_key = p_user_id::text or s.user_key = any (addresses)),
      'analytics.processed_events', (select pg_catalog.count(*) from analytics.processed_events as e
        where pg_catalog.strpos(e.idempotency_key, p_user_id::text) > 0),
      'analytics.daily_active_users', (select pg_catalog.count(*) from analytics.daily_active_users as a
        where a.user_id = p_user_id),
      'automation.user_work_counts', (select pg_catalog.count(*) from automation.user_work_counts as c
        where c.user_id = p_user_id),
      'automation.report_requests', (select pg_catalog.count(*) from automation.report_requests as r
        where r.user_id = p_user_id),
      'public.reports', coalesce(pg_catalog.cardinality(paths), 0));
  else
    delete from automation.email_send_slots as s where s.user_key = p_user_id::text or s.user_key = any (addresses);
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('automation.email_send_slots', n);
    delete from analytics.processed_events as e where pg_catalog.strpos(e.idempotency_key, p_user_id::text) > 0;
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('analytics.processed_events', n);
    delete from analytics.daily_active_users as a where a.user_id = p_user_id;
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('analytics.daily_active_users', n);
    delete from automation.user_work_counts as c where c.user_id = p_user_id;
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('automation.user_work_counts', n);
    delete from automation.report_requests as r where r.user_id = p_user_id;
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('automation.report_requests', n);
    delete from public.reports as r where r.user_id = p_user_id;
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('public.reports', n);
  end if;

  return pg_catalog.jsonb_build_object(
    'user_id', p_user_id,
    'dry_run', p_dry_run,
    'addresses', pg_catalog.cardinality(addresses),
    'counts', counts,
    'report_paths', pg_catalog.to_jsonb(coalesce(paths, '{}'))
  );
end;
$$;

comment on function public.erase_user_data(uuid, text, boolean) is
  'service_role only (`balansity user erase <id>`): erases one user''s personal data from what this repository owns, in one transaction: queued, dead-lettered and archived messages naming the user id or the address (every pgmq queue), the address in the email delivery log (rows kept), send-budget slots, analytics (processed event keys with the id, daily_active_users), per-user counters, report requests and report rows. Addresses: the profile''s and p_email (for a profile already deleted). p_dry_run counts without changing anything. Returns {"user_id", "dry_run", "addresses": n, "counts": {place: rows}, "report_paths": [the report files to delete from the store]}. Profiles, checkups, appointments and payments are the app''s: deleting the auth user erases them.';

revoke execute on function public.erase_user_data(uuid, text, boolean) from public, anon, authenticated;
grant execute on function public.erase_user_data(uuid, text, boolean) to service_role;
