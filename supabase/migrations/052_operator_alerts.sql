-- 052_operator_alerts.sql: worker heartbeats in the database, and alerts to the operators when dead
-- letters pile up, a queue's oldest message ages, or no worker is alive.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL (pgmq extension or the devstack's
-- pgmq-compatible SQL), inside one transaction. Needs 030 (settings, cron jobs), 031 (the queues),
-- 041 (require_operator, console) and 048 (queue_email_task and console_queue_test_email as they are).
--
--   automation.worker_heartbeats    one row per worker process, upserted every few seconds by
--                                   public.worker_heartbeat; marked stopped at a clean shutdown
--   automation.alert_state          one row per alert condition: firing, first fired, last notified,
--                                   resolved
--   automation.alert_webhooks       one row per webhook notification: delivered by the worker
--                                   (public.alert_webhooks_claim / alert_webhook_result), or POSTed
--                                   from the database through pg_net when no worker is alive
--                                   (pg_net_request_id set; the worker never sends those)
--   automation.check_alerts         cron job check-alerts (every minute): evaluates the conditions,
--                                   notifies (operator_alert email to each alerts_email_to address,
--                                   and a webhook row when alerts_webhook_url is set) at most once per
--                                   alerts_repeat_interval (1 hour) per condition while it stays true,
--                                   and once when it resolves
--   queue_email_task                + template operator_alert (048's function otherwise)
--   console_queue_test_email        + the operator_alert example (048's function otherwise)
--   console_alerts                  the console's and CLI's view of the alert state and the workers
--
-- The conditions (thresholds are automation.settings rows; an empty value switches one off):
--   dead_letters:<queue>_dlq   at least alerts_dlq_threshold (1) dead letters arrived in the dead-letter
--                              queue within the last alerts_dlq_window (1 hour) and are still there.
--                              A window rather than "since the previous check": growth seen minute by
--                              minute would resolve and fire again with every burst.
--   oldest_message:<queue>     the oldest visible message of a (non dead-letter) queue was enqueued more
--                              than alerts_oldest_message_age (15 minutes) ago.
--   no_worker                  no worker recorded a heartbeat within alerts_worker_silence (2 minutes),
--                              whether or not work is queued: a stopped worker is news before mail piles up.
--
-- Who delivers: the email goes through email_queue, so it needs a live worker. The webhook goes
-- through the worker's outbox while a worker is alive (retried with backoff). While no_worker is true
-- there is nobody to deliver it, so every webhook of that check (no_worker's own included) is POSTed
-- from the database with pg_net's net.http_post where it exists (Supabase: enable the pg_net
-- extension), fire and forget: pg_net sends it once, without retries. The row is still written, with
-- pg_net_request_id set, so the worker never sends it again. Without pg_net (or when net.http_post
-- raises) the row waits in the outbox for a worker, as before.
-- pg_net is detected by the function net.http_post(text, jsonb, jsonb, jsonb, integer) existing, not by
-- pg_extension, and called through dynamic SQL, so this compiles without it and a test can install a
-- stand-in of the same signature (the devstack's, which records the request for a dispatcher that
-- sends it over real HTTP).

-- ---------------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------------

insert into automation.settings (key, value, description) values
  ('alerts_email_to', '',
   'Operator addresses the alerts are emailed to (operator_alert), comma-separated; empty: no alert email.'),
  ('alerts_email_locale', 'ru', 'Language of the alert emails: ru or en.'),
  ('alerts_webhook_url', '',
   'URL each alert is POSTed to as JSON, by the worker (or through pg_net while no worker is alive) (https://, or http:// to a loopback address); empty: no webhook. Never logged.'),
  ('alerts_repeat_interval', '1 hour',
   'How often a condition that stays true is notified again (at most once per this interval).'),
  ('alerts_dlq_threshold', '1',
   'Alert dead_letters:<queue>_dlq when at least this many dead letters arrived within alerts_dlq_window; empty: off.'),
  ('alerts_dlq_window', '1 hour', 'The window alerts_dlq_threshold counts dead letters in.'),
  ('alerts_oldest_message_age', '15 minutes',
   'Alert oldest_message:<queue> when a queue''s oldest visible message is older than this; empty: off.'),
  ('alerts_worker_silence', '2 minutes',
   'Alert no_worker when no worker recorded a heartbeat within this; empty: off.'),
  ('worker_heartbeat_retention', '1 day',
   'How long a worker''s heartbeat row is kept after its last beat (check-alerts deletes older ones).')
on conflict (key) do nothing;

-- Refused when written, not when the job reads it a minute later.
alter table automation.settings
  add constraint settings_alerts_check check (
    case key
      when 'alerts_email_locale' then value in ('ru', 'en')
      when 'alerts_webhook_url' then
        value = ''
        or (value ~ '^https://[^/@\s]+(/\S*)?$')
        or (value ~ '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?(/\S*)?$')
      when 'alerts_repeat_interval' then value::interval >= interval '1 minute'
      when 'alerts_dlq_threshold' then value = '' or value ~ '^[1-9][0-9]{0,8}$'
      when 'alerts_dlq_window' then value::interval > interval '0'
      when 'alerts_oldest_message_age' then value = '' or value::interval > interval '0'
      when 'alerts_worker_silence' then value = '' or value::interval > interval '0'
      else true
    end
  );

-- ---------------------------------------------------------------------------------------------
-- Worker heartbeats
-- ---------------------------------------------------------------------------------------------

create table automation.worker_heartbeats (
  worker_id text primary key,
  hostname text not null,
  pid integer not null,
  version text not null,
  started_at timestamptz not null,
  last_seen_at timestamptz not null,
  stopped_at timestamptz,
  constraint worker_heartbeats_worker_id_check check (pg_catalog.length(worker_id) between 1 and 200)
);

comment on table automation.worker_heartbeats is
  'One row per worker process (052): written every few seconds by public.worker_heartbeat, stopped_at set at a clean shutdown, deleted by check-alerts worker_heartbeat_retention after its last beat. check-alerts reads it for the no_worker alert.';

alter table automation.worker_heartbeats enable row level security;
-- No policies: only service_role (bypasses RLS) and the owner use it; the schema is not exposed.
revoke all on automation.worker_heartbeats from public, anon, authenticated;
grant select on automation.worker_heartbeats to service_role;

create function public.worker_heartbeat(
  p_worker_id text,
  p_hostname text,
  p_pid integer,
  p_version text,
  p_started_at timestamptz,
  p_stopped boolean default false
)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  insert into automation.worker_heartbeats as h
    (worker_id, hostname, pid, version, started_at, last_seen_at, stopped_at)
  values (p_worker_id, p_hostname, p_pid, p_version, p_started_at, pg_catalog.now(),
          case when p_stopped then pg_catalog.now() end)
  on conflict (worker_id) do update
    set last_seen_at = excluded.last_seen_at,
        stopped_at = excluded.stopped_at;
$$;

comment on function public.worker_heartbeat(text, text, integer, text, timestamptz, boolean) is
  'The worker (service_role), every few seconds: records that worker process p_worker_id is alive (one upsert into automation.worker_heartbeats); p_stopped true at its clean shutdown. Security definer: the table is not writable by service_role.';

revoke all on function public.worker_heartbeat(text, text, integer, text, timestamptz, boolean) from public, anon, authenticated;
grant execute on function public.worker_heartbeat(text, text, integer, text, timestamptz, boolean) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Alert state and the webhook outbox
-- ---------------------------------------------------------------------------------------------

create table automation.alert_state (
  condition text primary key,
  firing boolean not null,
  summary text not null,
  first_fired_at timestamptz not null,
  last_notified_at timestamptz not null,
  resolved_at timestamptz,
  notifications integer not null default 1
);

comment on table automation.alert_state is
  'One row per alert condition that has ever fired (052, written by automation.check_alerts): firing now or not, when it first fired (this time), when the operators were last told, when it resolved, and how often they were told.';

create table automation.alert_webhooks (
  id bigint generated always as identity primary key,
  condition text not null,
  payload jsonb not null,
  created_at timestamptz not null default pg_catalog.now(),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default pg_catalog.now(),
  delivered_at timestamptz,
  failed_at timestamptz,
  last_error text,
  -- POSTed from the database (pg_net, no worker alive): net.http_post's request id. Not the worker's.
  pg_net_request_id bigint
);

comment on table automation.alert_webhooks is
  'The webhook notifications (052): one row per alert notification while alerts_webhook_url is set, written by automation.check_alerts. Delivered by the worker (public.alert_webhooks_claim, alert_webhook_result) with retries, or, while no worker is alive and pg_net exists, POSTed once from the database by net.http_post (pg_net_request_id set; the worker never claims those). Rows are deleted 7 days after delivery, failure or the pg_net POST. The URL is read at delivery, never stored here.';

-- The worker's claim: undelivered rows by due time.
create index alert_webhooks_due_idx on automation.alert_webhooks (next_attempt_at)
  where delivered_at is null and failed_at is null and pg_net_request_id is null;

alter table automation.alert_state enable row level security;
alter table automation.alert_webhooks enable row level security;
-- No policies: read through console_alerts (security definer) or by service_role (bypasses RLS).
revoke all on automation.alert_state, automation.alert_webhooks from public, anon, authenticated;
grant select on automation.alert_state, automation.alert_webhooks to service_role;

create function public.alert_webhooks_claim(p_limit integer default 10, p_lease_seconds integer default 60)
returns table (id bigint, url text, payload jsonb, attempt integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_url text;
begin
  if p_limit is null or p_limit < 1 or p_lease_seconds is null or p_lease_seconds < 1 then
    raise exception 'alert_webhooks_claim: p_limit >= 1 and p_lease_seconds >= 1 are required'
      using errcode = 'invalid_parameter_value';
  end if;
  select s.value into v_url from automation.settings s where s.key = 'alerts_webhook_url';
  if coalesce(v_url, '') = '' then
    -- The URL was removed after the rows were written: nobody to deliver them to.
    update automation.alert_webhooks w
       set failed_at = pg_catalog.now(), last_error = 'alerts_webhook_url is empty'
     where w.delivered_at is null and w.failed_at is null and w.pg_net_request_id is null;
    return;
  end if;
  -- Leased, not locked: the POST happens outside this transaction; a worker that dies mid-POST
  -- leaves the row to the next claim after p_lease_seconds.
  return query
  update automation.alert_webhooks w
     set attempts = w.attempts + 1,
         next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds)
   where w.id in (
     select d.id from automation.alert_webhooks d
      where d.delivered_at is null and d.failed_at is null and d.pg_net_request_id is null
        and d.next_attempt_at <= pg_catalog.now()
      order by d.next_attempt_at
      limit p_limit
      for update skip locked
   )
  returning w.id, v_url, w.payload, w.attempts;
end;
$$;

comment on function public.alert_webhooks_claim(integer, integer) is
  'The worker (service_role): leases up to p_limit due webhook notifications for p_lease_seconds and returns them with the current alerts_webhook_url (empty setting: marks them failed, returns none). Never those already POSTed through pg_net. Report each with alert_webhook_result.';

revoke all on function public.alert_webhooks_claim(integer, integer) from public, anon, authenticated;
grant execute on function public.alert_webhooks_claim(integer, integer) to service_role;

create function public.alert_webhook_result(p_id bigint, p_error text default null)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update automation.alert_webhooks w
     set delivered_at = case when p_error is null then pg_catalog.now() end,
         last_error = pg_catalog.left(p_error, 500),
         -- 1, 2, 4 … minutes, at most an hour apart; given up after 10 attempts.
         failed_at = case when p_error is not null and w.attempts >= 10 then pg_catalog.now() end,
         next_attempt_at = case
           when p_error is null then w.next_attempt_at
           else pg_catalog.now() + least(interval '1 minute' * power(2, w.attempts - 1), interval '1 hour')
         end
   where w.id = p_id and w.delivered_at is null;
$$;

comment on function public.alert_webhook_result(bigint, text) is
  'The worker (service_role), after POSTing a webhook notification claimed with alert_webhooks_claim: p_error null = delivered; otherwise the error (no URL, no secret) and a retry after 1, 2, 4 … 60 minutes, given up after 10 attempts.';

revoke all on function public.alert_webhook_result(bigint, text) from public, anon, authenticated;
grant execute on function public.alert_webhook_result(bigint, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- queue_email_task: + operator_alert (048's function otherwise)
-- ---------------------------------------------------------------------------------------------

create or replace function public.queue_email_task(
  "to" text,
  subject text,
  template text,
  variables jsonb default '{}'::jsonb,
  priority integer default 0,
  locale text default null,
  timezone text default null,
  idempotency_key text default null,
  user_id uuid default null
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  templates constant text[] := array[
    'checkup_completed', 'report_ready', 'appointment_confirmation', 'appointment_reminder_24h',
    'appointment_reminder_1h', 'payment_succeeded', 'payment_failed', 'payment_refunded',
    'appointment_cancelled', 'operator_alert'
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

-- ---------------------------------------------------------------------------------------------
-- The console's test email knows operator_alert (048's function, with its example)
-- ---------------------------------------------------------------------------------------------

create or replace function public.console_queue_test_email(to_address text, template text, locale text default 'ru')
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
    },
    "payment_refunded": {
      "user_name": "Анна", "payment_id": "pay-7781", "amount": 4500, "currency": "RUB",
      "description": "Консультация 25 ноября", "refunded_at": "2026-11-21T09:30:00Z",
      "app_url": "https://app.balansity.ru"
    },
    "appointment_cancelled": {
      "user_name": "Анна", "appointment_id": "apt-1024", "starts_at": "2026-11-25T12:00:00Z",
      "ends_at": "2026-11-25T13:00:00Z", "consultant_name": "Мария Иванова", "refund_requested": true,
      "book_url": "https://app.balansity.ru/appointments/new", "app_url": "https://app.balansity.ru"
    },
    "operator_alert": {
      "condition": "dead_letters:email_queue_dlq", "status": "firing",
      "summary": "3 new dead letters in email_queue_dlq within 01:00:00",
      "since": "2026-11-24T09:30:00Z", "checked_at": "2026-11-24T09:31:00Z"
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
-- check_alerts: the conditions, the state, the notifications
-- ---------------------------------------------------------------------------------------------

create function automation.notify_operators(
  p_condition text,
  p_status text,
  p_summary text,
  p_since timestamptz,
  p_now timestamptz,
  p_direct boolean
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_to text;
  v_locale text;
  v_webhook text;
  v_address text;
  v_emails integer := 0;
  v_variables jsonb;
  v_payload jsonb;
  v_request bigint;
begin
  select pg_catalog.max(s.value) filter (where s.key = 'alerts_email_to'),
         pg_catalog.max(s.value) filter (where s.key = 'alerts_email_locale'),
         pg_catalog.max(s.value) filter (where s.key = 'alerts_webhook_url')
    into v_to, v_locale, v_webhook
    from automation.settings s
   where s.key in ('alerts_email_to', 'alerts_email_locale', 'alerts_webhook_url');
  v_variables := pg_catalog.jsonb_build_object(
    'condition', p_condition, 'status', p_status, 'summary', p_summary,
    'since', p_since, 'checked_at', p_now);

  for v_address in
    select distinct pg_catalog.btrim(a) from pg_catalog.unnest(pg_catalog.string_to_array(coalesce(v_to, ''), ',')) as a
     where pg_catalog.btrim(a) <> ''
  loop
    if not public.is_email_address(v_address) then
      -- One bad address must not keep the others from hearing.
      raise warning 'check_alerts: alerts_email_to holds "%", which is not an email address: skipped', v_address;
      continue;
    end if;
    perform public.queue_email_task(
      "to" => v_address,
      subject => null,
      template => 'operator_alert',
      variables => v_variables,
      priority => 1,
      locale => coalesce(v_locale, 'ru'),
      timezone => 'Europe/Moscow',
      idempotency_key => pg_catalog.format('operator_alert:%s:%s:%s:%s', p_condition, p_status,
        extract(epoch from p_now)::bigint, pg_catalog.lower(v_address))
    );
    v_emails := v_emails + 1;
  end loop;

  if coalesce(v_webhook, '') <> '' then
    v_payload := v_variables || pg_catalog.jsonb_build_object('source', 'balansity');
    if p_direct then
      -- No worker to deliver it: pg_net POSTs it (asynchronously, after commit, once). Dynamic SQL so
      -- that this compiles and runs where the net schema does not exist; the caller checked it does.
      begin
        execute 'select net.http_post(url => $1, body => $2, headers => $3, timeout_milliseconds => $4)'
          into v_request
          using v_webhook, v_payload,
            '{"Content-Type": "application/json", "User-Agent": "balansity-database"}'::jsonb, 10000;
      exception when others then
        -- E.g. pg_net's background worker is down: the outbox keeps it for the worker instead.
        raise warning 'check_alerts: net.http_post failed (%), the webhook waits for a worker', sqlerrm;
        v_request := null;
      end;
    end if;
    insert into automation.alert_webhooks (condition, payload, pg_net_request_id)
    values (p_condition, v_payload, v_request);
  end if;
  return v_emails;
end;
$$;

comment on function automation.notify_operators(text, text, text, timestamptz, timestamptz, boolean) is
  'Internal to automation.check_alerts: queues an operator_alert email (high priority) to each alerts_email_to address and, when alerts_webhook_url is set, a webhook row: for the worker''s outbox, or with p_direct (no worker alive, pg_net present) POSTed at once through net.http_post and marked with its request id. Returns the emails queued.';

revoke all on function automation.notify_operators(text, text, text, timestamptz, timestamptz, boolean) from public, anon, authenticated;

create function automation.check_alerts(p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_repeat interval;
  v_dlq_threshold integer;
  v_dlq_window interval;
  v_oldest_age interval;
  v_silence interval;
  v_retention interval;
  v_queue text;
  v_count bigint;
  v_oldest timestamptz;
  v_last_beat timestamptz;
  -- The conditions true now: condition -> summary.
  v_true jsonb := '{}'::jsonb;
  v_condition text;
  v_summary text;
  v_state automation.alert_state;
  v_notified text[] := '{}';
  v_resolved text[] := '{}';
  v_emails integer := 0;
  v_direct boolean;
begin
  select
    coalesce(pg_catalog.max(s.value) filter (where s.key = 'alerts_repeat_interval'), '1 hour')::interval,
    nullif(coalesce(pg_catalog.max(s.value) filter (where s.key = 'alerts_dlq_threshold'), '1'), '')::integer,
    coalesce(pg_catalog.max(s.value) filter (where s.key = 'alerts_dlq_window'), '1 hour')::interval,
    nullif(coalesce(pg_catalog.max(s.value) filter (where s.key = 'alerts_oldest_message_age'), '15 minutes'), '')::interval,
    nullif(coalesce(pg_catalog.max(s.value) filter (where s.key = 'alerts_worker_silence'), '2 minutes'), '')::interval,
    coalesce(pg_catalog.max(s.value) filter (where s.key = 'worker_heartbeat_retention'), '1 day')::interval
    into v_repeat, v_dlq_threshold, v_dlq_window, v_oldest_age, v_silence, v_retention
    from automation.settings s
   where s.key like 'alerts\_%' or s.key = 'worker_heartbeat_retention';

  delete from automation.worker_heartbeats h where h.last_seen_at < p_now - v_retention;
  delete from automation.alert_webhooks w
   where coalesce(w.delivered_at, w.failed_at) < p_now - interval '7 days'
      or (w.pg_net_request_id is not null and w.created_at < p_now - interval '7 days');

  -- One cheap statement per queue: a count over the dead letters of the window, or the first visible
  -- message by msg_id (the primary key), never a scan of a whole backlog.
  for v_queue in select m.queue_name from pgmq.meta m order by m.queue_name loop
    if v_queue like '%\_dlq' then
      continue when v_dlq_threshold is null;
      execute pg_catalog.format(
        'select pg_catalog.count(*) from pgmq.%I where enqueued_at > $1 and enqueued_at <= $2', 'q_' || v_queue)
        into v_count using p_now - v_dlq_window, p_now;
      if v_count >= v_dlq_threshold then
        v_true := v_true || pg_catalog.jsonb_build_object('dead_letters:' || v_queue,
          pg_catalog.format('%s new dead letters in %s within %s', v_count, v_queue, v_dlq_window));
      end if;
    else
      continue when v_oldest_age is null;
      execute pg_catalog.format(
        'select enqueued_at from pgmq.%I where vt <= $1 order by msg_id limit 1', 'q_' || v_queue)
        into v_oldest using p_now;
      if v_oldest is not null and v_oldest < p_now - v_oldest_age then
        v_true := v_true || pg_catalog.jsonb_build_object('oldest_message:' || v_queue,
          pg_catalog.format('the oldest waiting message of %s was enqueued %s ago (at %s)', v_queue,
            pg_catalog.date_trunc('second', p_now - v_oldest), v_oldest));
      end if;
    end if;
  end loop;

  if v_silence is not null then
    select pg_catalog.max(h.last_seen_at) into v_last_beat
      from automation.worker_heartbeats h
     where h.stopped_at is null;
    if v_last_beat is null or v_last_beat < p_now - v_silence then
      v_true := v_true || pg_catalog.jsonb_build_object('no_worker',
        case when v_last_beat is null then pg_catalog.format('no worker is running (none recorded a heartbeat within %s)', v_silence)
             else pg_catalog.format('no worker has recorded a heartbeat since %s', v_last_beat) end);
    end if;
  end if;

  -- No worker alive to deliver the outbox: the webhooks of this check go out through pg_net where it
  -- exists. Detected by the function, not pg_extension: the same test for Supabase's pg_net and a
  -- stand-in of the same signature.
  v_direct := (v_true ? 'no_worker')
    and pg_catalog.to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is not null;

  -- Fired, or still true an interval after the operators were last told: tell them (again).
  for v_condition, v_summary in select e.key, e.value #>> '{}' from pg_catalog.jsonb_each(v_true) e loop
    select * into v_state from automation.alert_state a where a.condition = v_condition for update;
    if not found or not v_state.firing then
      insert into automation.alert_state as a
        (condition, firing, summary, first_fired_at, last_notified_at, resolved_at, notifications)
      values (v_condition, true, v_summary, p_now, p_now, null, 1)
      on conflict (condition) do update
        set firing = true, summary = excluded.summary, first_fired_at = p_now, last_notified_at = p_now,
            resolved_at = null, notifications = 1;
      v_emails := v_emails + automation.notify_operators(v_condition, 'firing', v_summary, p_now, p_now, v_direct);
      v_notified := v_notified || v_condition;
    elsif v_state.last_notified_at <= p_now - v_repeat then
      update automation.alert_state a
         set summary = v_summary, last_notified_at = p_now, notifications = a.notifications + 1
       where a.condition = v_condition;
      v_emails := v_emails + automation.notify_operators(v_condition, 'firing', v_summary,
        v_state.first_fired_at, p_now, v_direct);
      v_notified := v_notified || v_condition;
    else
      update automation.alert_state a set summary = v_summary where a.condition = v_condition;
    end if;
  end loop;

  -- Firing but no longer true: resolved, and the operators told once.
  for v_state in
    select * from automation.alert_state a where a.firing and not (v_true ? a.condition) for update
  loop
    update automation.alert_state a set firing = false, resolved_at = p_now where a.condition = v_state.condition;
    v_emails := v_emails + automation.notify_operators(v_state.condition, 'resolved', v_state.summary,
      v_state.first_fired_at, p_now, v_direct);
    v_resolved := v_resolved || v_state.condition;
  end loop;

  return pg_catalog.jsonb_build_object(
    'firing', (select coalesce(pg_catalog.jsonb_agg(k order by k), '[]'::jsonb) from pg_catalog.jsonb_object_keys(v_true) k),
    'notified', pg_catalog.to_jsonb(v_notified),
    'resolved', pg_catalog.to_jsonb(v_resolved),
    'emails', v_emails);
end;
$$;

comment on function automation.check_alerts(timestamptz) is
  'Cron job check-alerts (every minute; pg_cron or the worker''s scheduler as service_role): evaluates dead_letters:<queue>_dlq, oldest_message:<queue> and no_worker against the alerts_* settings, records them in automation.alert_state, and notifies the operators (operator_alert email to alerts_email_to; when alerts_webhook_url is set, the webhook outbox, or while no_worker is true and net.http_post exists, a POST through pg_net) when a condition fires, again after alerts_repeat_interval while it stays true, and once when it resolves. Deletes heartbeats older than worker_heartbeat_retention. p_now is for tests. Returns {"firing": [...], "notified": [...], "resolved": [...], "emails": n}.';

revoke all on function automation.check_alerts(timestamptz) from public, anon, authenticated;
grant execute on function automation.check_alerts(timestamptz) to service_role;

insert into automation.cron_jobs (name, schedule, command, description) values
  ('check-alerts', '* * * * *',
   'select automation.check_alerts()',
   'Every minute: alerts the operators (operator_alert email to the alerts_email_to setting, the alerts_webhook_url webhook) when dead letters arrive, a queue''s oldest message ages or no worker is alive; at most once an hour per condition while it stays true.');

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
-- The console: alert state and workers
-- ---------------------------------------------------------------------------------------------

create function public.console_alerts()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform automation.require_operator();
  return pg_catalog.jsonb_build_object(
    'conditions', (
      select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(a) order by a.firing desc, a.condition), '[]'::jsonb)
        from automation.alert_state a),
    'workers', (
      select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h) order by h.last_seen_at desc), '[]'::jsonb)
        from automation.worker_heartbeats h),
    'webhooks_pending', (
      select pg_catalog.count(*) from automation.alert_webhooks w
       where w.delivered_at is null and w.failed_at is null and w.pg_net_request_id is null),
    'email_to_set', exists (select from automation.settings s where s.key = 'alerts_email_to' and s.value <> ''),
    'webhook_set', exists (select from automation.settings s where s.key = 'alerts_webhook_url' and s.value <> '')
  );
end;
$$;

comment on function public.console_alerts() is
  'Operator console and CLI (operators, service_role): the alert conditions (automation.alert_state), the worker heartbeats, the webhook notifications waiting, and whether recipients and a webhook are set (never the addresses or the URL).';

revoke all on function public.console_alerts() from public, anon, authenticated;
grant execute on function public.console_alerts() to operator, service_role;
