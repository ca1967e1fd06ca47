-- 050_masking_and_daily_limits.sql: the console masks by allow-list, and its searches find an exact
-- address or the masked form only.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 041.
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
         automation.mask_text(d.error), d.created_at, d.updated_at, d.sent_at
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
  'Operator console (operators, service_role): the newest max_count (1..1000, default 100) rows of the worker''s delivery log (automation.email_deliveries), recipient and error masked. search: the exact recipient address or its masked form (a***@d***), case-insensitive, or a template or status name.';
