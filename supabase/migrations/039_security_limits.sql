-- 039_security_limits.sql: limits that hold against a flood and against careless clients, and
-- grants narrowed to what the API needs.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq extension or the devstack's
-- pgmq-compatible SQL, with or without pg_cron), inside one transaction. Needs 001 and 030-033.
--
--   per-user limits   what one user's own writes can make the system do is capped per clock hour
--                     (UTC): checkup_completed emails, appointment confirmations, high-priority
--                     emails, report jobs, analytics events. The limits are automation.settings rows
--                     (user_hourly_limit_<kind>); what was queued and what was held back is counted
--                     in automation.user_work_counts. A confirmation over the high-priority limit is
--                     queued at normal priority, so one user cannot fill the lane read first. A user
--                     booking through the API holds at most 20 upcoming appointments (each gets two
--                     reminders from the cron job, which the hourly allowance cannot cap).
--   text limits       check constraints with the lengths the email templates accept
--                     (packages/emails/src/text-limits.ts is the other half; a test compares them).
--                     Existing rows that break them are fixed here: text is cut to the limit, a
--                     meeting_url too long to be a link is cleared; each fix is reported as a NOTICE.
--   message limits    queue_email_task's variables and track_event's properties at most 64 KiB of
--                     JSON, pgmq_send's message at most 256 KiB (each error names the argument);
--                     the same 256 KiB as a check constraint on every queue table; pgmq_send's delay
--                     and pgmq_read's vt at most a week (packages/queues/src/queue-limits.ts).
--   addresses         public.is_email_address follows RFC 5321: local part at most 64 characters,
--                     the address at most 254.
--   grants            execute on the pgmq functions is revoked from PUBLIC (service_role keeps it);
--                     anon loses execute on public.is_valid_timezone (authenticated keeps it: the
--                     profile and check constraints call it as the user writing the row).
--   pg_cron           moved to schema pg_catalog, where Supabase creates it (the advisors warn about
--                     extension_in_public otherwise); its jobs are rescheduled from
--                     automation.cron_jobs. The run history in cron.job_run_details is dropped with
--                     the old extension.
--
-- The allow-list of who may execute or read what through the API is packages/db/src/api-allow-list.ts;
-- packages/db/test/api-grants-walk.test.ts and the doctor compare the database with it.

-- ---------------------------------------------------------------------------------------------
-- Per-user limits: settings and counters
-- ---------------------------------------------------------------------------------------------

insert into automation.settings (key, value, description) values
  ('user_hourly_limit_checkup_emails', '20',
   'checkup_completed emails queued per user per hour (UTC clock hour); more completions are kept but not emailed.'),
  ('user_hourly_limit_confirmation_emails', '20',
   'appointment_confirmation emails queued per user per hour; more bookings are kept but not confirmed by email.'),
  ('user_hourly_limit_high_priority_emails', '5',
   'Emails a user''s own writes may queue at high priority per hour; further confirmations go at normal priority.'),
  ('user_hourly_limit_report_jobs', '20',
   'Report jobs queued per user per hour by completed checkups (request_assessment_report has its own limit, 040).'),
  ('user_hourly_limit_events', '100',
   'Analytics events a user''s own writes may queue per hour.'),
  ('user_work_counts_retention', '7 days',
   'How long automation.user_work_counts keeps a user''s hourly counters (older ones go when the user''s next hour starts).')
on conflict (key) do nothing;

alter table automation.settings
  add constraint settings_user_hourly_limit_check
  check (key !~ '^user_hourly_limit_' or value ~ '^[0-9]{1,9}$');

create table automation.user_work_counts (
  user_id uuid not null,
  window_start timestamptz not null,
  checkup_emails integer not null default 0,
  confirmation_emails integer not null default 0,
  high_priority_emails integer not null default 0,
  report_jobs integer not null default 0,
  events integer not null default 0,
  held_back_checkup_emails integer not null default 0,
  held_back_confirmation_emails integer not null default 0,
  held_back_high_priority_emails integer not null default 0,
  held_back_report_jobs integer not null default 0,
  held_back_events integer not null default 0,
  last_admitted text[] not null default '{}',
  constraint user_work_counts_pkey primary key (user_id, window_start)
);

comment on table automation.user_work_counts is
  'Per user and clock hour (UTC), one row: how much work of each kind the user''s own writes queued (checkup_emails, confirmation_emails, high_priority_emails, report_jobs, events) and how much was held back by the user_hourly_limit_<kind> settings (held_back_<kind>; for high_priority_emails: confirmations queued at normal priority instead). last_admitted: the kinds the latest write was allowed. A user''s rows older than the user_work_counts_retention setting (7 days) are deleted at their next write.';

create index user_work_counts_window_start_idx on automation.user_work_counts (window_start);

alter table automation.user_work_counts enable row level security;
-- No policy: only the owner and service_role (bypassrls) read it; nobody else has a grant.
revoke all on table automation.user_work_counts from public, anon, authenticated;
grant select, delete on table automation.user_work_counts to service_role;

create function automation.admit_user_work(p_user_id uuid, p_kinds text[])
returns text[]
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- What this write wants, and the limits (a missing setting means no limit).
  want_checkup boolean := 'checkup_emails' = any (p_kinds);
  want_confirmation boolean := 'confirmation_emails' = any (p_kinds);
  want_high boolean := 'high_priority_emails' = any (p_kinds);
  want_report boolean := 'report_jobs' = any (p_kinds);
  want_events boolean := 'events' = any (p_kinds);
  limit_checkup integer;
  limit_confirmation integer;
  limit_high integer;
  limit_report integer;
  limit_events integer;
  admitted text[];
  new_hour boolean;
begin
  select
    coalesce(pg_catalog.max(s.value::integer) filter (where s.key = 'user_hourly_limit_checkup_emails'), 2147483647),
    coalesce(pg_catalog.max(s.value::integer) filter (where s.key = 'user_hourly_limit_confirmation_emails'), 2147483647),
    coalesce(pg_catalog.max(s.value::integer) filter (where s.key = 'user_hourly_limit_high_priority_emails'), 2147483647),
    coalesce(pg_catalog.max(s.value::integer) filter (where s.key = 'user_hourly_limit_report_jobs'), 2147483647),
    coalesce(pg_catalog.max(s.value::integer) filter (where s.key = 'user_hourly_limit_events'), 2147483647)
  into limit_checkup, limit_confirmation, limit_high, limit_report, limit_events
  from automation.settings s
  where s.key like 'user\_hourly\_limit\_%';

  -- One row per user and hour, one upsert per write: each wanted counter goes up by one in its
  -- column while under its limit, else in held_back_<kind>.
  insert into automation.user_work_counts as c (
    user_id, window_start,
    checkup_emails, confirmation_emails, high_priority_emails, report_jobs, events,
    held_back_checkup_emails, held_back_confirmation_emails, held_back_high_priority_emails,
    held_back_report_jobs, held_back_events, last_admitted
  )
  values (
    p_user_id, pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC'),
    (want_checkup and limit_checkup > 0)::integer,
    (want_confirmation and limit_confirmation > 0)::integer,
    (want_high and limit_high > 0)::integer,
    (want_report and limit_report > 0)::integer,
    (want_events and limit_events > 0)::integer,
    (want_checkup and limit_checkup <= 0)::integer,
    (want_confirmation and limit_confirmation <= 0)::integer,
    (want_high and limit_high <= 0)::integer,
    (want_report and limit_report <= 0)::integer,
    (want_events and limit_events <= 0)::integer,
    pg_catalog.array_remove(array[
      case when want_checkup and limit_checkup > 0 then 'checkup_emails' end,
      case when want_confirmation and limit_confirmation > 0 then 'confirmation_emails' end,
      case when want_high and limit_high > 0 then 'high_priority_emails' end,
      case when want_report and limit_report > 0 then 'report_jobs' end,
      case when want_events and limit_events > 0 then 'events' end
    ], null)
  )
  on conflict on constraint user_work_counts_pkey do update set
    checkup_emails = c.checkup_emails + (want_checkup and c.checkup_emails < limit_checkup)::integer,
    confirmation_emails = c.confirmation_emails + (want_confirmation and c.confirmation_emails < limit_confirmation)::integer,
    high_priority_emails = c.high_priority_emails + (want_high and c.high_priority_emails < limit_high)::integer,
    report_jobs = c.report_jobs + (want_report and c.report_jobs < limit_report)::integer,
    events = c.events + (want_events and c.events < limit_events)::integer,
    held_back_checkup_emails = c.held_back_checkup_emails + (want_checkup and c.checkup_emails >= limit_checkup)::integer,
    held_back_confirmation_emails =
      c.held_back_confirmation_emails + (want_confirmation and c.confirmation_emails >= limit_confirmation)::integer,
    held_back_high_priority_emails =
      c.held_back_high_priority_emails + (want_high and c.high_priority_emails >= limit_high)::integer,
    held_back_report_jobs = c.held_back_report_jobs + (want_report and c.report_jobs >= limit_report)::integer,
    held_back_events = c.held_back_events + (want_events and c.events >= limit_events)::integer,
    last_admitted = pg_catalog.array_remove(array[
      case when want_checkup and c.checkup_emails < limit_checkup then 'checkup_emails' end,
      case when want_confirmation and c.confirmation_emails < limit_confirmation then 'confirmation_emails' end,
      case when want_high and c.high_priority_emails < limit_high then 'high_priority_emails' end,
      case when want_report and c.report_jobs < limit_report then 'report_jobs' end,
      case when want_events and c.events < limit_events then 'events' end
    ], null)
  returning c.last_admitted, c.xmax::text = '0' into admitted, new_hour;
  -- The user's first write of an hour drops their counters past the retention: the table stays at
  -- a few rows per active user without a job of its own.
  if new_hour then
    delete from automation.user_work_counts c
    where c.user_id = p_user_id
      and c.window_start < pg_catalog.now() - coalesce(
        (select s.value::interval from automation.settings s where s.key = 'user_work_counts_retention'),
        interval '7 days'
      );
  end if;
  return admitted;
end;
$$;

comment on function automation.admit_user_work(uuid, text[]) is
  'Internal (the triggers of 032/039, as their owner): counts one unit of each kind in p_kinds (checkup_emails, confirmation_emails, high_priority_emails, report_jobs, events) for p_user_id in the current UTC hour and returns the kinds still under their user_hourly_limit_<kind> setting. Not callable by the API roles.';

revoke execute on function automation.admit_user_work(uuid, text[]) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Upcoming appointments per user: each one gets two reminder emails from the cron job of 030
-- ---------------------------------------------------------------------------------------------

-- The reminders are queued by the schedule, not by the booking, so the hourly allowance cannot cap
-- them; the number of bookings a user holds can. Bookings through the API (a request with a user
-- JWT) are refused past the limit; the service books without it.
insert into automation.settings (key, value, description) values
  ('user_upcoming_appointment_limit', '20',
   'Scheduled future appointments a user may hold when booking through the API (each gets the 24 h and 1 h reminders); a booking past it is refused.')
on conflict (key) do nothing;

alter table automation.settings
  add constraint settings_user_upcoming_appointment_limit_check
  check (key <> 'user_upcoming_appointment_limit' or value ~ '^[0-9]{1,9}$');

create function public.check_upcoming_appointment_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  upcoming_limit integer;
  over_user uuid;
  upcoming integer;
begin
  if (select auth.uid()) is null then
    return null;
  end if;
  upcoming_limit := coalesce(
    (select s.value::integer from automation.settings s where s.key = 'user_upcoming_appointment_limit'),
    2147483647
  );
  -- One statement for the whole insert (a request may carry many rows): the bookers of this
  -- statement whose scheduled future appointments, these included, are over the limit.
  select a.user_id, pg_catalog.count(*)::integer
  into over_user, upcoming
  from public.appointments a
  where a.user_id in (select i.user_id from inserted i)
    and a.status = 'scheduled'
    and a.starts_at > pg_catalog.now()
  group by a.user_id
  having pg_catalog.count(*) > upcoming_limit
  limit 1;
  if found then
    raise exception 'appointments: at most % upcoming appointments per user (this booking would make %)',
      upcoming_limit, upcoming
      using errcode = 'check_violation',
            hint = 'Cancel an upcoming appointment first.';
  end if;
  return null;
end;
$$;

comment on function public.check_upcoming_appointment_limit() is
  'Trigger function appointments_upcoming_limit (after insert on public.appointments, per statement): refuses a booking made through the API (auth.uid() set) that would give its user more scheduled future appointments than the user_upcoming_appointment_limit setting (SQLSTATE 23514). Not callable directly.';

revoke execute on function public.check_upcoming_appointment_limit() from public, anon, authenticated, service_role;

create trigger appointments_upcoming_limit
  after insert on public.appointments
  referencing new table as inserted
  for each statement
  execute function public.check_upcoming_appointment_limit();

-- ---------------------------------------------------------------------------------------------
-- Text limits: the database refuses what the email templates would refuse
-- ---------------------------------------------------------------------------------------------

do $$
declare
  fixed integer;
begin
  update public.profiles set full_name = pg_catalog.left(full_name, 200) where pg_catalog.length(full_name) > 200;
  get diagnostics fixed = row_count;
  if fixed > 0 then
    raise notice '039: cut % profiles.full_name value(s) to 200 characters', fixed;
  end if;

  update public.assessments set title = pg_catalog.left(title, 300) where pg_catalog.length(title) > 300;
  get diagnostics fixed = row_count;
  if fixed > 0 then
    raise notice '039: cut % assessments.title value(s) to 300 characters', fixed;
  end if;

  update public.appointments set specialist_name = pg_catalog.left(specialist_name, 200)
  where pg_catalog.length(specialist_name) > 200;
  get diagnostics fixed = row_count;
  if fixed > 0 then
    raise notice '039: cut % appointments.specialist_name value(s) to 200 characters', fixed;
  end if;

  -- A link cut short points nowhere: cleared instead.
  update public.appointments set meeting_url = null where pg_catalog.length(meeting_url) > 2048;
  get diagnostics fixed = row_count;
  if fixed > 0 then
    raise notice '039: cleared % appointments.meeting_url value(s) longer than 2048 characters', fixed;
  end if;

  update public.payments set failure_reason = pg_catalog.left(failure_reason, 500)
  where pg_catalog.length(failure_reason) > 500;
  get diagnostics fixed = row_count;
  if fixed > 0 then
    raise notice '039: cut % payments.failure_reason value(s) to 500 characters', fixed;
  end if;
end;
$$;

alter table public.profiles
  add constraint profiles_full_name_length_check check (pg_catalog.length(full_name) <= 200);
alter table public.assessments
  add constraint assessments_title_length_check check (pg_catalog.length(title) <= 300);
alter table public.appointments
  add constraint appointments_specialist_name_length_check check (pg_catalog.length(specialist_name) <= 200),
  add constraint appointments_meeting_url_length_check check (pg_catalog.length(meeting_url) <= 2048);
alter table public.payments
  add constraint payments_failure_reason_length_check check (pg_catalog.length(failure_reason) <= 500);

-- Sign-up metadata is user input: a name longer than the profile allows is cut, not a failed sign-up.
create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  meta jsonb := coalesce(new.raw_user_meta_data, '{}'::jsonb);
begin
  -- A locale, time zone or name we do not support falls back to the defaults (or is cut to the
  -- profile's 200 characters) instead of failing the sign-up. The defaults repeat 001's columns.
  insert into public.profiles (id, email, full_name, locale, timezone)
  values (
    new.id,
    new.email,
    pg_catalog.left(nullif(pg_catalog.btrim(coalesce(meta ->> 'full_name', meta ->> 'name')), ''), 200),
    case when meta ->> 'locale' in ('ru', 'en') then meta ->> 'locale' else 'ru' end,
    case when public.is_valid_timezone(meta ->> 'timezone') then meta ->> 'timezone' else 'Europe/Moscow' end
  );
  return new;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- Addresses: RFC 5321 lengths
-- ---------------------------------------------------------------------------------------------

create or replace function public.is_email_address(address text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  -- The pattern of zod's z.email() (packages/queues emailMessageSchema.to), so that an address
  -- accepted here is accepted by the worker; RFC 5321 lengths: the local part at most 64
  -- characters, the whole address at most 254 (a longer one cannot be used in SMTP's RCPT TO).
  select pg_catalog.length(address) <= 254
    and pg_catalog.length(pg_catalog.split_part(address, '@', 1)) <= 64
    and address ~ '^([A-Za-z0-9_''+-]+\.)*[A-Za-z0-9_''+-]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$'
$$;

comment on function public.is_email_address(text) is
  'True when address is an email address the email_queue accepts (zod z.email() rules; RFC 5321: local part at most 64 characters, at most 254 in all). Used by queue_email_task and by the triggers of 032 (which skip an undeliverable address instead of failing the user''s change). Internal: service_role only.';

-- ---------------------------------------------------------------------------------------------
-- Message limits: every queued message is bounded
-- ---------------------------------------------------------------------------------------------

-- The backstop for every producer, pgmq.send and send_batch included (the helpers below refuse
-- earlier with an error naming their argument). 262144 bytes of JSON as PostgreSQL writes it.
do $$
declare
  queue text;
begin
  foreach queue in array array['email_queue', 'report_generation_queue', 'payment_processing_queue', 'analytics_queue'] loop
    execute pg_catalog.format(
      'alter table pgmq.%I add constraint %I check (pg_catalog.octet_length(message::text) <= 262144)',
      'q_' || queue,
      'q_' || queue || '_message_size_check'
    );
  end loop;
end;
$$;

create or replace function public.pgmq_send(queue_name text, message jsonb, delay integer default 0)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  sent_msg_id bigint;
  message_bytes integer;
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_send.queue_name) then
    raise exception 'pgmq_send: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_send.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_send.message is null or pg_catalog.jsonb_typeof(pgmq_send.message) <> 'object' then
    raise exception 'pgmq_send: message must be a JSON object'
      using errcode = 'invalid_parameter_value';
  end if;
  message_bytes := pg_catalog.octet_length(pgmq_send.message::text);
  if message_bytes > 262144 then
    raise exception 'pgmq_send: message is % bytes of JSON, more than the limit of 262144', message_bytes
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_send.delay is null or pgmq_send.delay < 0 then
    raise exception 'pgmq_send: delay must be 0 or more seconds (got %)', pgmq_send.delay
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_send.delay > 604800 then
    raise exception 'pgmq_send: delay must be at most 604800 seconds (a week) (got %)', pgmq_send.delay
      using errcode = 'invalid_parameter_value';
  end if;
  -- pgmq.send returns setof bigint (one row).
  select sent.id into sent_msg_id from pgmq.send(pgmq_send.queue_name, pgmq_send.message, pgmq_send.delay) as sent (id);
  return sent_msg_id;
end;
$$;

comment on function public.pgmq_send(text, jsonb, integer) is
  'service_role only (servers, Edge Functions): sends message (a JSON object of at most 256 KiB) to queue_name, visible after delay seconds (at most a week); returns its msg_id. Does not check the message against its schema: prefer queue_email_task and the other queue_* helpers, which do.';

create or replace function public.pgmq_read(queue_name text, vt integer default 30, qty integer default 1)
returns setof pgmq.message_record
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_read.queue_name) then
    raise exception 'pgmq_read: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_read.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  -- A week at most, as the consumer primitives allow: longer hides a failed message for too long.
  if pgmq_read.vt is null or pgmq_read.vt < 0 then
    raise exception 'pgmq_read: vt must be 0 or more seconds (got %)', pgmq_read.vt
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_read.vt > 604800 then
    raise exception 'pgmq_read: vt must be at most 604800 seconds (a week) (got %)', pgmq_read.vt
      using errcode = 'invalid_parameter_value';
  end if;
  -- One call holds its rows locked while it runs; 1000 keeps a single read bounded.
  if pgmq_read.qty is null or pgmq_read.qty < 1 or pgmq_read.qty > 1000 then
    raise exception 'pgmq_read: qty must be between 1 and 1000 (got %)', pgmq_read.qty
      using errcode = 'invalid_parameter_value';
  end if;
  return query select * from pgmq.read(pgmq_read.queue_name, pgmq_read.vt, pgmq_read.qty);
end;
$$;

comment on function public.pgmq_read(text, integer, integer) is
  'service_role only (servers, Edge Functions): reads up to qty (1..1000) visible messages of queue_name and hides them for vt seconds (at most a week; pgmq.read).';

-- queue_email_task and track_event as in 031, plus the size of variables / properties.
create or replace function public.queue_email_task(
  "to" text,
  subject text,
  template text,
  variables jsonb default '{}',
  priority integer default 0,
  locale text default null,
  timezone text default null,
  idempotency_key text default null,
  user_id uuid default null
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  templates constant text[] := array[
    'checkup_completed', 'report_ready', 'appointment_confirmation', 'appointment_reminder_24h',
    'appointment_reminder_1h', 'payment_succeeded', 'payment_failed'
  ];
  message_locale text := queue_email_task.locale;
  message_timezone text := queue_email_task.timezone;
  msg_id bigint;
  variables_bytes integer;
begin
  if queue_email_task."to" is null then
    raise exception 'queue_email_task: "to" must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if not public.is_email_address(queue_email_task."to") then
    raise exception 'queue_email_task: "to" is not an email address' using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.template is null then
    raise exception 'queue_email_task: template must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.template <> all (templates) then
    raise exception 'queue_email_task: template "%" is unknown (expected one of %)',
      queue_email_task.template, pg_catalog.array_to_string(templates, ', ')
      using errcode = 'invalid_parameter_value';
  end if;
  if pg_catalog.length(queue_email_task.subject) > 300 then
    raise exception 'queue_email_task: subject is longer than 300 characters' using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.variables is null or pg_catalog.jsonb_typeof(queue_email_task.variables) <> 'object' then
    raise exception 'queue_email_task: variables must be a JSON object (got %)',
      coalesce(pg_catalog.jsonb_typeof(queue_email_task.variables), 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  variables_bytes := pg_catalog.octet_length(queue_email_task.variables::text);
  if variables_bytes > 65536 then
    raise exception 'queue_email_task: variables is % bytes of JSON, more than the limit of 65536', variables_bytes
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.priority is null or queue_email_task.priority not in (0, 1) then
    raise exception 'queue_email_task: priority % is invalid (expected 0 normal or 1 high)',
      coalesce(queue_email_task.priority::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.locale is not null and queue_email_task.locale not in ('ru', 'en') then
    raise exception 'queue_email_task: locale "%" is unknown (expected ru or en)', queue_email_task.locale
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.timezone is not null
    and (pg_catalog.length(queue_email_task.timezone) > 64 or not public.is_valid_timezone(queue_email_task.timezone))
  then
    raise exception 'queue_email_task: timezone "%" is not a known IANA time zone name (e.g. Europe/Moscow)',
      queue_email_task.timezone
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_email_task.idempotency_key is not null and pg_catalog.length(queue_email_task.idempotency_key) not between 1 and 300 then
    raise exception 'queue_email_task: idempotency_key must be 1 to 300 characters' using errcode = 'invalid_parameter_value';
  end if;

  -- Language and time zone left out: the recipient's profile (by user id, else by address), else
  -- the defaults of the message schema.
  if message_locale is null or message_timezone is null then
    select coalesce(message_locale, p.locale), coalesce(message_timezone, p.timezone)
    into message_locale, message_timezone
    from public.profiles p
    where case
      when queue_email_task.user_id is not null then p.id = queue_email_task.user_id
      else pg_catalog.lower(p.email) = pg_catalog.lower(queue_email_task."to")
    end
    order by p.created_at
    limit 1;
  end if;

  select sent.id
  into msg_id
  from pgmq.send(
    'email_queue',
    pg_catalog.jsonb_build_object(
      'version', 1,
      'idempotency_key', coalesce(queue_email_task.idempotency_key, pg_catalog.gen_random_uuid()::text),
      'to', queue_email_task."to",
      'template', queue_email_task.template,
      'subject', queue_email_task.subject,
      'locale', coalesce(message_locale, 'ru'),
      'timezone', coalesce(message_timezone, 'Europe/Moscow'),
      'variables', queue_email_task.variables,
      'priority', queue_email_task.priority,
      'user_id', queue_email_task.user_id
    )
  ) as sent (id);
  return msg_id;
end;
$$;


create or replace function public.track_event(
  event text,
  entity_id text default null,
  user_id uuid default null,
  properties jsonb default '{}',
  occurred_at timestamptz default now(),
  idempotency_key text default null
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  events constant text[] := array[
    'checkup_completed', 'appointment_booked', 'appointment_cancelled', 'payment_completed',
    'payment_failed', 'report_requested', 'report_generated', 'email_sent'
  ];
  msg_id bigint;
  properties_bytes integer;
begin
  if track_event.event is null then
    raise exception 'track_event: event must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if track_event.event <> all (events) then
    raise exception 'track_event: event "%" is unknown (expected one of %)',
      track_event.event, pg_catalog.array_to_string(events, ', ')
      using errcode = 'invalid_parameter_value';
  end if;
  if track_event.entity_id is not null and pg_catalog.length(track_event.entity_id) not between 1 and 200 then
    raise exception 'track_event: entity_id must be 1 to 200 characters' using errcode = 'invalid_parameter_value';
  end if;
  if track_event.properties is null or pg_catalog.jsonb_typeof(track_event.properties) <> 'object' then
    raise exception 'track_event: properties must be a JSON object (got %)',
      coalesce(pg_catalog.jsonb_typeof(track_event.properties), 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  properties_bytes := pg_catalog.octet_length(track_event.properties::text);
  if properties_bytes > 65536 then
    raise exception 'track_event: properties is % bytes of JSON, more than the limit of 65536', properties_bytes
      using errcode = 'invalid_parameter_value';
  end if;
  if track_event.occurred_at is null or not pg_catalog.isfinite(track_event.occurred_at) then
    raise exception 'track_event: occurred_at must be a finite timestamp' using errcode = 'invalid_parameter_value';
  end if;
  if track_event.idempotency_key is not null and pg_catalog.length(track_event.idempotency_key) not between 1 and 300 then
    raise exception 'track_event: idempotency_key must be 1 to 300 characters' using errcode = 'invalid_parameter_value';
  end if;

  select sent.id
  into msg_id
  from pgmq.send(
    'analytics_queue',
    pg_catalog.jsonb_build_object(
      'version', 1,
      'idempotency_key', coalesce(track_event.idempotency_key, pg_catalog.gen_random_uuid()::text),
      'event', track_event.event,
      'entity_id', track_event.entity_id,
      'user_id', track_event.user_id,
      'occurred_at', track_event.occurred_at,
      'properties', track_event.properties
    )
  ) as sent (id);
  return msg_id;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- The triggers of 032 within the user's hourly allowance
-- ---------------------------------------------------------------------------------------------

create or replace function public.handle_completed_checkup()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
  -- The user's hourly allowance (039): kinds over their limit are counted as held back, not queued.
  admitted text[] := automation.admit_user_work(new.user_id, array['report_jobs', 'checkup_emails', 'events']);
begin
  if 'report_jobs' = any (admitted) then
    perform public.queue_report_generation(
      assessment_id => new.id,
      user_id => new.user_id,
      report_type => 'pdf',
      idempotency_key => 'report:' || new.id || ':pdf',
      requested_by => 'trigger'
    );
  end if;

  if 'checkup_emails' = any (admitted) then
    select p.email, p.full_name, p.locale, p.timezone
    into owner_profile
    from public.profiles p
    where p.id = new.user_id;

    if found and public.is_email_address(owner_profile.email) then
      perform public.queue_email_task(
        "to" => owner_profile.email,
        subject => null,
        template => 'checkup_completed',
        variables => pg_catalog.jsonb_build_object(
          'user_name', owner_profile.full_name,
          'assessment_id', new.id,
          'assessment_title', new.title,
          'completed_at', new.completed_at
        ),
        priority => 0,
        locale => owner_profile.locale,
        timezone => owner_profile.timezone,
        idempotency_key => 'checkup_completed:' || new.id,
        user_id => new.user_id
      );
    else
      raise warning 'handle_completed_checkup: no checkup_completed email for assessment %: user % has %',
        new.id, new.user_id, case when found then 'an address the email queue refuses' else 'no profile' end;
    end if;
  end if;

  if 'events' = any (admitted) then
    perform public.track_event(
      event => 'checkup_completed',
      entity_id => new.id::text,
      user_id => new.user_id,
      properties => pg_catalog.jsonb_build_object('kind', new.kind),
      occurred_at => coalesce(new.completed_at, pg_catalog.now()),
      idempotency_key => 'analytics:checkup_completed:' || new.id
    );
  end if;
  return null;
end;
$$;


create or replace function public.handle_new_appointment()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
  -- The user's hourly allowance (039): kinds over their limit are counted as held back, not queued.
  admitted text[] := automation.admit_user_work(new.user_id, array['confirmation_emails', 'events']);
  email_priority integer := 0;
begin
  if 'confirmation_emails' = any (admitted) then
    select p.email, p.full_name, p.locale, p.timezone
    into owner_profile
    from public.profiles p
    where p.id = new.user_id;

    if found and public.is_email_address(owner_profile.email) then
      -- High priority: the user is waiting for this one; past the user's hourly high-priority
      -- allowance it goes at normal priority, so one user cannot fill the lane read first.
      if 'high_priority_emails' = any (automation.admit_user_work(new.user_id, array['high_priority_emails'])) then
        email_priority := 1;
      end if;
      perform public.queue_email_task(
        "to" => owner_profile.email,
        subject => null,
        template => 'appointment_confirmation',
        variables => pg_catalog.jsonb_build_object(
          'user_name', owner_profile.full_name,
          'appointment_id', new.id,
          'starts_at', new.starts_at,
          'ends_at', new.ends_at,
          'consultant_name', new.specialist_name,
          'meeting_url', new.meeting_url
        ),
        priority => email_priority,
        locale => owner_profile.locale,
        timezone => owner_profile.timezone,
        idempotency_key => 'appointment_confirmation:' || new.id,
        user_id => new.user_id
      );
    else
      raise warning 'handle_new_appointment: no appointment_confirmation email for appointment %: user % has %',
        new.id, new.user_id, case when found then 'an address the email queue refuses' else 'no profile' end;
    end if;
  end if;

  if 'events' = any (admitted) then
    perform public.track_event(
      event => 'appointment_booked',
      entity_id => new.id::text,
      user_id => new.user_id,
      properties => pg_catalog.jsonb_build_object(
        'starts_at', new.starts_at,
        'specialist_name', new.specialist_name,
        'price_amount', new.price_amount,
        'currency', new.currency
      ),
      occurred_at => pg_catalog.now(),
      idempotency_key => 'analytics:appointment_booked:' || new.id
    );
  end if;
  return null;
end;
$$;



comment on function public.handle_completed_checkup() is
  'Trigger function on_checkup_completed (after update of status on public.assessments, when the status becomes completed): queues the PDF report, the checkup_completed email (skipped with a WARNING when the owner has no usable address) and the checkup_completed event, each within the owner''s hourly allowance (automation.admit_user_work; what is over it is counted as held back). Security definer: the user completing a checkup has no rights on the queues. Not callable directly.';

comment on function public.handle_new_appointment() is
  'Trigger function on_new_appointment (after insert on public.appointments, unless the new row is cancelled): queues the appointment_confirmation email (high priority within the owner''s high-priority allowance, else normal; skipped with a WARNING when the owner has no usable address) and the appointment_booked event, each within the owner''s hourly allowance. Security definer. Not callable directly.';

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------

-- pgmq 1.5 leaves EXECUTE on its functions to PUBLIC; only the schema USAGE revoke of 031 stood
-- between the browser roles and the queues. service_role keeps what 031 granted. PostgreSQL cannot
-- revoke PUBLIC's default EXECUTE per schema, so functions a later pgmq upgrade adds get it back:
-- the doctor's api-grants check reports them, and this statement fixes them.
revoke execute on all functions in schema pgmq from public, anon, authenticated;
grant execute on all functions in schema pgmq to service_role;
alter default privileges in schema pgmq grant execute on functions to service_role;

-- Check constraints (profiles.timezone) and handle_new_user call it as the writing role; nobody
-- calls it through the API without a session.
revoke execute on function public.is_valid_timezone(text) from public, anon;
grant execute on function public.is_valid_timezone(text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- pg_cron in pg_catalog, as on Supabase
-- ---------------------------------------------------------------------------------------------

do $$
begin
  if not exists (
    select from pg_catalog.pg_extension e
    where e.extname = 'pg_cron' and e.extnamespace <> 'pg_catalog'::regnamespace
  ) then
    return;
  end if;
  -- pg_cron cannot be moved (not relocatable): it is dropped and created again, and its jobs are
  -- scheduled again from their one source, automation.cron_jobs. Dropping it deletes every job and
  -- all run history, so it is moved only while cron.job holds nothing but our jobs; a job of anyone
  -- else (a team's own, added by hand) keeps pg_cron where it is, with a warning.
  if exists (
    select from cron.job j
    where j.jobname is null or j.jobname not in (select d.name from automation.cron_jobs d)
  ) then
    raise warning '039: pg_cron stays in schema % because cron.job holds jobs that are not ours (%); moving it would delete them and their run history. See docs/adopt-existing-database.md',
      (select e.extnamespace::regnamespace::text from pg_catalog.pg_extension e where e.extname = 'pg_cron'),
      (select pg_catalog.string_agg(coalesce(j.jobname, j.jobid::text), ', ' order by j.jobid) from cron.job j
       where j.jobname is null or j.jobname not in (select d.name from automation.cron_jobs d));
    return;
  end if;
  begin
    drop extension pg_cron;
    create extension pg_cron with schema pg_catalog;
  exception
    when others then
      raise warning '039: pg_cron stays where it is (%); move it by hand: drop extension pg_cron; create extension pg_cron with schema pg_catalog; select automation.schedule_cron_jobs();',
        sqlerrm;
      return;
  end;
  perform automation.schedule_cron_jobs();
  raise notice '039: pg_cron created again in schema pg_catalog and its jobs scheduled from automation.cron_jobs (earlier run history dropped)';
end;
$$;
