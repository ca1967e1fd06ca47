-- 050_masking_and_daily_limits.sql: the console masks by allow-list, and its searches find an exact
-- address or the masked form only; per-user daily limits beside the hourly ones; size caps on a
-- checkup's answers and an appointment's topic.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 039 and 041.
--
-- 041 masked addresses, names and a list of free-text keys, and showed every other string: a signed
-- report link (report_url, valid for days), a meeting link and an assessment title went through in
-- peeks and dead letters. Now only keys known to hold no personal data (ids, templates, locales, time
-- stamps, codes) are shown; every other string is masked, and a link is never shown whatever its key.
-- The searches of 041 matched any substring of the unmasked payload, so an address could be recovered
-- by extending a guessed prefix: now a search matches an exact address, or text of what is shown.
-- Grants and comments of the re-declared functions stay as they are (create or replace keeps them).

create or replace function automation.mask_text(value text)
returns text
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  -- Every link inside the text (an error may quote a signed one) and every email address: first
  -- character of the address's local part and of its domain.
  select pg_catalog.regexp_replace(
    pg_catalog.regexp_replace(value, '[a-z][a-z0-9+.-]*://[^\s<>"'']+', '[hidden: link]', 'gi'),
    '([A-Za-z0-9_''+-])[A-Za-z0-9._%''+-]*@([A-Za-z0-9])[A-Za-z0-9.-]*[A-Za-z0-9]',
    '\1***@\2***',
    'g'
  )
$$;

comment on function automation.mask_text(text) is
  'Masks every link in value as [hidden: link] and every email address as a***@d*** (first characters kept). Used by the console functions on error messages and payload strings.';

create or replace function automation.mask_personal_data(value jsonb, key text default null)
returns jsonb
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  lowered text := pg_catalog.lower(coalesce(key, ''));
  plain text;
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
      plain := value #>> '{}';
      -- A link may carry a signature or a token that opens what it points to: never shown.
      if plain ~* '[a-z][a-z0-9+.-]*://' then
        return pg_catalog.to_jsonb('[hidden: link]'::text);
      end if;
      if lowered ~ '(^|_)name$' then
        -- Initials: "Анна Иванова" -> "А*** И***".
        return pg_catalog.to_jsonb(
          (select pg_catalog.string_agg(pg_catalog.left(w.word, 1) || '***', ' ' order by w.n)
           from pg_catalog.regexp_split_to_table(pg_catalog.btrim(plain), '\s+') with ordinality as w (word, n)
           where w.word <> '')
        );
      end if;
      -- The allow-list: keys whose values are ids, codes, templates, locales, zones, times.
      if lowered ~ '^(id|.+_id|idempotency_key|template|locale|timezone|priority|version|report_type|action|event|kind|status|code|currency|provider|queue|queue_name|level|content_type|requested_by|.+_at|duration|hour)$'
         -- An address on its own (the recipient): shown masked, a***@d***.
         or plain ~ '^[^@\s]+@[^@\s]+$' then
        return pg_catalog.to_jsonb(automation.mask_text(plain));
      end if;
      return pg_catalog.to_jsonb('[hidden: ' || pg_catalog.length(plain) || ' characters]');
    else
      return value;
  end case;
end;
$$;

comment on function automation.mask_personal_data(jsonb, text) is
  'A copy of a queue message with personal data masked, by allow-list: strings under keys known to hold no personal data (id, *_id, idempotency_key, template, locale, timezone, priority, version, report_type, action, event, kind, status, code, currency, provider, queue, queue_name, level, content_type, requested_by, *_at, duration, hour) are shown with addresses masked; a string that is one address -> a***@d***; values of name keys (name, *_name) -> initials; any link -> "[hidden: link]"; every other string -> "[hidden: N characters]". key is the key value sits under (recursion). Used by the console functions.';

-- Whether a search is an exact address found in text (a JSON document or a column): the whole value,
-- case-insensitive, never a part of one.
create or replace function automation.console_matches_address(haystack text, search text)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select search ~ '^[^@\s"\\]+@[^@\s"\\]+$'
     and pg_catalog.strpos(pg_catalog.lower(haystack), '"' || pg_catalog.lower(search) || '"') > 0
$$;

comment on function automation.console_matches_address(text, text) is
  'Console searches (console_dead_letters): true when search is an email address and haystack (jsonb as text) holds it as a whole string value, case-insensitive. A part of an address never matches, so an address cannot be guessed a character at a time.';

revoke execute on function automation.console_matches_address(text, text) from public, anon, authenticated, service_role;

create or replace function public.console_dead_letters(queue_name text, max_count integer default 100, search text default null)
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
  -- search: an exact address anywhere in the payload, or text of what is shown (the error code, the
  -- masked error, the masked payload), case-insensitively. Never a part of an unmasked value.
  return query execute pg_catalog.format(
    $sql$
    select s.msg_id, s.enqueued_at, s.error_code, s.error_message, s.attempts, s.payload
    from (
      select d.msg_id, d.enqueued_at, d.message #>> '{error,code}' as error_code,
             automation.mask_text(d.message #>> '{error,message}') as error_message,
             (d.message ->> 'attempts')::integer as attempts,
             automation.mask_personal_data(d.message -> 'message') as payload,
             (d.message -> 'message')::text as original
      from pgmq.%I as d
    ) as s
    where $2 is null
       or automation.console_matches_address(s.original, $2)
       or pg_catalog.strpos(
            pg_catalog.lower(concat_ws(' ', s.error_code, s.error_message, s.payload::text)),
            pg_catalog.lower($2)
          ) > 0
    order by s.msg_id
    limit $1
    $sql$,
    dlq_table
  ) using max_count, nullif(pg_catalog.btrim(search), '');
end;
$$;

comment on function public.console_dead_letters(text, integer, text) is
  'Operator console (operators, service_role): dead letters of queue_name (the main queue, e.g. email_queue; they live in <queue>_dlq) in msg_id order, up to max_count (1..1000): error code and message, attempts, the original message as payload; personal data masked (automation.mask_personal_data). search: an exact email address anywhere in the payload, or case-insensitive text of what is shown (error code, masked error, masked payload).';

create or replace function public.console_email_deliveries(search text default null, max_count integer default 100)
returns table (
  idempotency_key text,
  msg_id bigint,
  template text,
  recipient text,
  status text,
  attempts integer,
  resends integer,
  smtp_message_id text,
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
  -- search: the exact recipient address or its masked form (case-insensitive), a template or a status.
  return query
  select d.idempotency_key, d.msg_id, d.template, automation.mask_text(d.recipient), d.status, d.attempts,
         d.resends, d.smtp_message_id, automation.mask_text(d.error), d.created_at, d.updated_at, d.sent_at
  from automation.email_deliveries as d
  where pattern is null
     or pg_catalog.lower(d.recipient) = pg_catalog.lower(pattern)
     or pg_catalog.lower(automation.mask_text(d.recipient)) = pg_catalog.lower(pattern)
     or d.template = pattern
     or d.status = pattern
  order by d.created_at desc
  limit max_count;
end;
$$;

comment on function public.console_email_deliveries(text, integer) is
  'Operator console (operators, service_role): the newest max_count (1..1000, default 100) rows of the worker''s delivery log (automation.email_deliveries), recipient and error masked, with resends (sent again after an attempt with no result, same Message-ID) and the Message-ID. search: the exact recipient address or its masked form (a***@d***), case-insensitive, or a template or status name.';

-- ---------------------------------------------------------------------------------------------
-- Per-user daily limits and size caps
-- ---------------------------------------------------------------------------------------------
--
-- 039 caps what a user's own writes queue per clock hour, so a user completing checkups all day could
-- still have ~20 reports and ~480 emails a day made and sent. The daily limits sit beside the hourly
-- ones (settings user_daily_limit_<kind>), with defaults no real person reaches and a flood does;
-- what is over them is counted as held back in automation.user_work_counts, as for the hourly ones.
-- request_assessment_report (a user asking again for a report) keeps its own limit (040).

insert into automation.settings (key, value, description) values
  ('user_daily_limit_checkup_emails', '10',
   'checkup_completed emails queued per user per day (UTC); more completions are kept but not emailed (the hourly limit applies too).'),
  ('user_daily_limit_report_jobs', '10',
   'Report jobs queued per user per day (UTC) by completed checkups (the hourly limit applies too).'),
  ('user_daily_limit_events', '300',
   'Analytics events a user''s own writes may queue per day (UTC) (the hourly limit applies too).')
on conflict (key) do nothing;

alter table automation.settings
  add constraint settings_user_daily_limit_check
  check (key !~ '^user_daily_limit_' or value ~ '^[0-9]{1,9}$');

create or replace function automation.admit_user_work(p_user_id uuid, p_kinds text[])
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
  day_start timestamptz := pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC');
  day_checkup integer;
  day_report integer;
  day_events integer;
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

  -- The daily limits (050): a kind whose count today (UTC) has reached its user_daily_limit_<kind>
  -- is held back like one over its hourly limit. Today's rows are at most 24, found by the primary key.
  select coalesce(pg_catalog.sum(c.checkup_emails), 0), coalesce(pg_catalog.sum(c.report_jobs), 0),
         coalesce(pg_catalog.sum(c.events), 0)
  into day_checkup, day_report, day_events
  from automation.user_work_counts c
  where c.user_id = p_user_id and c.window_start >= day_start;
  if day_checkup >= (select coalesce(pg_catalog.max(s.value::integer), 2147483647) from automation.settings s
                     where s.key = 'user_daily_limit_checkup_emails') then
    limit_checkup := 0;
  end if;
  if day_report >= (select coalesce(pg_catalog.max(s.value::integer), 2147483647) from automation.settings s
                    where s.key = 'user_daily_limit_report_jobs') then
    limit_report := 0;
  end if;
  if day_events >= (select coalesce(pg_catalog.max(s.value::integer), 2147483647) from automation.settings s
                    where s.key = 'user_daily_limit_events') then
    limit_events := 0;
  end if;

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
  'Internal (the triggers of 032/039, as their owner): counts one unit of each kind in p_kinds (checkup_emails, confirmation_emails, high_priority_emails, report_jobs, events) for p_user_id in the current UTC hour and returns the kinds still under their user_hourly_limit_<kind> setting and, for checkup_emails, report_jobs and events, under their user_daily_limit_<kind> setting for the UTC day (050). Not callable by the API roles.';

-- Sizes a user writes through the API: a checkup's answers at most 64 KiB of JSON, an appointment's
-- topic at most 1000 characters. Not valid for rows already there (kept as they are); every new write
-- is checked.
alter table public.assessments
  add constraint assessments_answers_size_check
  check (pg_catalog.octet_length(answers::text) <= 65536) not valid;
alter table public.appointments
  add constraint appointments_topic_length_check check (pg_catalog.length(topic) <= 1000) not valid;
