-- 031_setup_queues.sql: the durable queues (pgmq), their worker wake-ups and the producer helpers.
--
-- The contract is docs/queue-contract.md; message shapes are packages/queues/src/catalog.ts, and
-- packages/queues/test/sql-queues*.test.ts parses every message built here with those schemas.
--
-- Runs unchanged on Supabase Cloud (the pgmq extension, 1.5.x) and on local PostgreSQL (the
-- devstack's pgmq-compatible SQL, pgmq 1.5.1 API), inside one transaction. Only pgmq 1.5 functions
-- are used: create, send, and pgmq.meta; no enable_notify_insert (pgmq >= 1.7).
--
-- What it makes:
--   queues      email_queue, report_generation_queue, payment_processing_queue, analytics_queue,
--               and one dead-letter queue each (<queue>_dlq)
--   wake-ups    a statement-level after-insert trigger on each pgmq.q_<queue> (not the DLQs):
--               pg_notify('pgmq_<queue>', '<queue>') at most once per transaction per queue
--   helpers     queue_email_task, queue_report_generation, queue_payment_processing, track_event:
--               validate their arguments (SQLSTATE 22023, the message names the function and the
--               argument), stamp version 1 and an idempotency key, send, return the msg_id
--   internal    is_email_address(text): the one email rule (the same pattern as zod's z.email()),
--               shared with the triggers of 032 so they can skip an undeliverable address
--   grants      helpers: service_role only. Schema pgmq: service_role may use the queues (as
--               Supabase Queues grants it); anon and authenticated get nothing.

-- ---------------------------------------------------------------------------------------------
-- pgmq: the extension where the server has it (Supabase), else it must already be installed
-- ---------------------------------------------------------------------------------------------

do $$
begin
  if exists (select from pg_available_extensions where name = 'pgmq') then
    create extension if not exists pgmq;
  end if;
  if to_regnamespace('pgmq') is null then
    raise exception 'pgmq is missing: enable the pgmq extension (Supabase: Database > Extensions / Queues)';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Queues and dead-letter queues (created only when absent: the dashboard may have made some)
-- ---------------------------------------------------------------------------------------------

do $$
declare
  queue text;
begin
  foreach queue in array array[
    'email_queue', 'email_queue_dlq',
    'report_generation_queue', 'report_generation_queue_dlq',
    'payment_processing_queue', 'payment_processing_queue_dlq',
    'analytics_queue', 'analytics_queue_dlq'
  ] loop
    if not exists (select from pgmq.meta m where m.queue_name = queue) then
      perform pgmq.create(queue);
    end if;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Worker wake-ups: NOTIFY on insert, once per transaction per queue
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_notify_insert()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  queue_name text := tg_argv[0];
  -- A transaction-local flag per queue: set on the first insert, gone at commit or rollback
  -- (and at rollback to a savepoint, together with the notification it stands for).
  flag text := 'balansity.pgmq_notified_' || tg_argv[0];
begin
  -- PostgreSQL folds identical notifications within a transaction anyway; the flag saves the
  -- pg_notify call (and its duplicate search) on every further send in the same transaction.
  if pg_catalog.current_setting(flag, true) is distinct from 'on' then
    perform pg_catalog.set_config(flag, 'on', true);
    perform pg_catalog.pg_notify('pgmq_' || queue_name, queue_name);
  end if;
  return null;
end;
$$;

comment on function public.pgmq_notify_insert() is
  'Trigger function (statement-level after insert on pgmq.q_<queue>, argument: the queue name): wakes the worker with pg_notify(''pgmq_<queue>'', ''<queue>''), at most once per transaction per queue. Security invoker: it needs no privilege beyond pg_notify. Not callable directly.';

revoke execute on function public.pgmq_notify_insert() from public, anon, authenticated, service_role;

do $$
declare
  queue text;
begin
  foreach queue in array array['email_queue', 'report_generation_queue', 'payment_processing_queue', 'analytics_queue'] loop
    execute pg_catalog.format(
      'create or replace trigger notify_insert after insert on pgmq.%I for each statement execute function public.pgmq_notify_insert(%L)',
      'q_' || queue,
      queue
    );
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- The email rule
-- ---------------------------------------------------------------------------------------------

create function public.is_email_address(address text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  -- The pattern of zod's z.email() (packages/queues emailMessageSchema.to), so that an address
  -- accepted here is accepted by the worker; at most 320 characters, like the schema.
  select pg_catalog.length(address) <= 320
    and address ~ '^([A-Za-z0-9_''+-]+\.)*[A-Za-z0-9_''+-]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$'
$$;

comment on function public.is_email_address(text) is
  'True when address is an email address the email_queue accepts (zod z.email() rules, at most 320 characters). Used by queue_email_task and by the triggers of 032 (which skip an undeliverable address instead of failing the user''s change). Internal: service_role only.';

revoke execute on function public.is_email_address(text) from public, anon, authenticated;
grant execute on function public.is_email_address(text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- queue_email_task
-- ---------------------------------------------------------------------------------------------

create function public.queue_email_task(
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

comment on function public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid) is
  'Queues one email (email_queue) and returns its msg_id. Called by service_role (the worker, server code, supabase-js with the service key) and by the triggers of 032 and the cron functions. subject null = the template''s own; locale/timezone null = the recipient''s profile, else ru / Europe/Moscow; priority 0 normal, 1 high; idempotency_key null = a random one. Bad arguments raise SQLSTATE 22023.';

revoke execute on function public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)
  from public, anon, authenticated;
grant execute on function public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)
  to service_role;

-- ---------------------------------------------------------------------------------------------
-- queue_report_generation
-- ---------------------------------------------------------------------------------------------

create function public.queue_report_generation(
  assessment_id uuid,
  user_id uuid,
  report_type text default 'pdf',
  idempotency_key text default null,
  requested_by text default 'service'
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  msg_id bigint;
begin
  if queue_report_generation.assessment_id is null then
    raise exception 'queue_report_generation: assessment_id must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if queue_report_generation.user_id is null then
    raise exception 'queue_report_generation: user_id must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if queue_report_generation.report_type is null or queue_report_generation.report_type <> 'pdf' then
    raise exception 'queue_report_generation: report_type "%" is unknown (expected pdf)',
      coalesce(queue_report_generation.report_type, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_report_generation.requested_by is null
    or queue_report_generation.requested_by not in ('trigger', 'user', 'service')
  then
    raise exception 'queue_report_generation: requested_by "%" is unknown (expected trigger, user or service)',
      coalesce(queue_report_generation.requested_by, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_report_generation.idempotency_key is not null
    and pg_catalog.length(queue_report_generation.idempotency_key) not between 1 and 300
  then
    raise exception 'queue_report_generation: idempotency_key must be 1 to 300 characters'
      using errcode = 'invalid_parameter_value';
  end if;

  select sent.id
  into msg_id
  from pgmq.send(
    'report_generation_queue',
    pg_catalog.jsonb_build_object(
      'version', 1,
      'idempotency_key', coalesce(queue_report_generation.idempotency_key, pg_catalog.gen_random_uuid()::text),
      'assessment_id', queue_report_generation.assessment_id,
      'user_id', queue_report_generation.user_id,
      'report_type', queue_report_generation.report_type,
      'requested_by', queue_report_generation.requested_by
    )
  ) as sent (id);
  return msg_id;
end;
$$;

comment on function public.queue_report_generation(uuid, uuid, text, text, text) is
  'Queues a report job (report_generation_queue) and returns its msg_id. Called by service_role and by the on_checkup_completed trigger (requested_by trigger); a user''s own request goes through request_assessment_report(). report_type: pdf; requested_by: trigger, user or service. Bad arguments raise SQLSTATE 22023.';

revoke execute on function public.queue_report_generation(uuid, uuid, text, text, text)
  from public, anon, authenticated;
grant execute on function public.queue_report_generation(uuid, uuid, text, text, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- queue_payment_processing
-- ---------------------------------------------------------------------------------------------

create function public.queue_payment_processing(
  payment_id uuid,
  action text,
  idempotency_key text default null
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  msg_id bigint;
begin
  if queue_payment_processing.payment_id is null then
    raise exception 'queue_payment_processing: payment_id must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if queue_payment_processing.action is null then
    raise exception 'queue_payment_processing: action must not be null' using errcode = 'invalid_parameter_value';
  end if;
  if queue_payment_processing.action not in ('verify', 'completed', 'failed') then
    raise exception 'queue_payment_processing: action "%" is unknown (expected verify, completed or failed)',
      queue_payment_processing.action
      using errcode = 'invalid_parameter_value';
  end if;
  if queue_payment_processing.idempotency_key is not null
    and pg_catalog.length(queue_payment_processing.idempotency_key) not between 1 and 300
  then
    raise exception 'queue_payment_processing: idempotency_key must be 1 to 300 characters'
      using errcode = 'invalid_parameter_value';
  end if;

  select sent.id
  into msg_id
  from pgmq.send(
    'payment_processing_queue',
    pg_catalog.jsonb_build_object(
      'version', 1,
      'idempotency_key', coalesce(queue_payment_processing.idempotency_key, pg_catalog.gen_random_uuid()::text),
      'payment_id', queue_payment_processing.payment_id,
      'action', queue_payment_processing.action
    )
  ) as sent (id);
  return msg_id;
end;
$$;

comment on function public.queue_payment_processing(uuid, text, text) is
  'Queues a payment job (payment_processing_queue) and returns its msg_id. Called by service_role (payment provider webhooks, server code). action: verify, completed or failed. Bad arguments raise SQLSTATE 22023.';

revoke execute on function public.queue_payment_processing(uuid, text, text) from public, anon, authenticated;
grant execute on function public.queue_payment_processing(uuid, text, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- track_event
-- ---------------------------------------------------------------------------------------------

create function public.track_event(
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

comment on function public.track_event(text, text, uuid, jsonb, timestamptz, text) is
  'Queues an analytics event (analytics_queue) and returns its msg_id. Called by service_role (the worker, server code) and by the triggers of 032. event: one of analyticsEventNames in packages/queues/src/catalog.ts. Bad arguments raise SQLSTATE 22023.';

revoke execute on function public.track_event(text, text, uuid, jsonb, timestamptz, text)
  from public, anon, authenticated;
grant execute on function public.track_event(text, text, uuid, jsonb, timestamptz, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Schema pgmq: service_role uses the queues, nobody else
-- ---------------------------------------------------------------------------------------------

-- What Supabase Queues grants service_role (usage, the queue tables, the functions), narrowed to
-- the row privileges the worker needs. The browser roles never touch a queue: the only way in is
-- the narrow security definer functions above and in later migrations.
grant usage on schema pgmq to service_role;
grant select, insert, update, delete on all tables in schema pgmq to service_role;
-- pgmq.metrics reads each queue's msg_id sequence.
grant usage, select on all sequences in schema pgmq to service_role;
grant execute on all functions in schema pgmq to service_role;
-- Queues created later by the migrating role (pgmq.create) get the same grants.
alter default privileges in schema pgmq grant select, insert, update, delete on tables to service_role;
alter default privileges in schema pgmq grant usage, select on sequences to service_role;

revoke all on schema pgmq from public, anon, authenticated;
revoke all on all tables in schema pgmq from public, anon, authenticated;
revoke all on all sequences in schema pgmq from public, anon, authenticated;
