-- 043_email_locale_without_profile.sql: an email keeps the language its producer chose.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 039.
--
-- public.queue_email_task looks up the recipient's profile for a language or time zone the caller
-- left out. When the caller gave a locale but no time zone and no profile matched, the lookup's
-- SELECT INTO set both to null, so the email went out in Russian whatever the caller asked for. The
-- function is the one of 039 with the lookup going into variables of its own; grants and comment stay.

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
  profile_locale text;
  profile_timezone text;
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
    -- Into variables of their own: SELECT INTO sets its targets to null when no profile matches,
    -- which used to drop a locale the caller gave (an English email went out in Russian).
    select p.locale, p.timezone
    into profile_locale, profile_timezone
    from public.profiles p
    where case
      when queue_email_task.user_id is not null then p.id = queue_email_task.user_id
      else pg_catalog.lower(p.email) = pg_catalog.lower(queue_email_task."to")
    end
    order by p.created_at
    limit 1;
    message_locale := coalesce(message_locale, profile_locale);
    message_timezone := coalesce(message_timezone, profile_timezone);
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
