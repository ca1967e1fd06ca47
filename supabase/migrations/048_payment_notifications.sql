-- 048_payment_notifications.sql: the money path. YooKassa's notifications reach the database through
-- one function, payments start from our prices, refunds and cancellations tell the user.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 001, 031,
-- 032, 034, 040, 043.
--
--   apply_payment_notification   service_role (the yookassa-webhook Edge Function, the worker after a
--                                refund): applies what YooKassa's API says about a payment or a refund
--                                to public.payments, once per provider event; refuses (and records) an
--                                object the API does not know, another amount or currency, a status
--                                that contradicts ours
--   start_appointment_payment    authenticated (through the create-payment Edge Function): the pending
--                                payment of the caller's appointment, at the appointment's price
--   attach_provider_payment      service_role: links our payment to the provider's payment id
--   queue_payment_processing     + action `refund` (the worker asks YooKassa for a refund)
--   queue_email_task             + templates payment_refunded, appointment_cancelled
--   on_payment_reversed          failed: the appointment is unpaid again; refunded: the appointment is
--                                refunded, email payment_refunded
--   on_appointment_cancelled     email appointment_cancelled, event appointment_cancelled, a refund
--                                job for each completed payment of the appointment
--   on_report_requested          event report_requested (a user asked for a report again)
--   on_email_sent                event email_sent (the SMTP server accepted an email)
--
-- The appointment's own status (scheduled -> in_progress -> completed, cancelled) never follows the
-- payment: it is the schedule's (the status cron job) and the user's or an operator's decision. A
-- payment moves only appointments.payment_status: pending when paying starts, paid on success (032),
-- unpaid again when the payment fails, refunded after a refund.

-- ---------------------------------------------------------------------------------------------
-- automation.payment_notifications: every notification, accepted or refused
-- ---------------------------------------------------------------------------------------------

create table automation.payment_notifications (
  id bigint generated always as identity primary key,
  provider text not null,
  event text not null,
  object_id text not null,
  payment_id uuid,
  outcome text not null,
  reason text,
  details jsonb not null default '{}',
  received_at timestamptz not null default now(),
  constraint payment_notifications_outcome_check check (outcome in ('applied', 'unchanged', 'ignored', 'refused')),
  constraint payment_notifications_reason_check check ((outcome = 'refused') = (reason is not null))
);

comment on table automation.payment_notifications is
  'Payment provider notifications as public.apply_payment_notification judged them. An accepted one (applied, unchanged, ignored) holds its provider event (provider, event, object id) once: a repeated delivery changes nothing. A refused one (reason: not_found, id_mismatch, status_mismatch, unknown_payment, amount_mismatch, currency_mismatch, status_conflict) is an alert for a person: the notification was forged, or our data and the provider disagree. details never holds personal data (ids, statuses, amounts).';

create unique index payment_notifications_event_key
  on automation.payment_notifications (provider, event, object_id)
  where outcome <> 'refused';
create index payment_notifications_refused_idx
  on automation.payment_notifications (received_at desc)
  where outcome = 'refused';

alter table automation.payment_notifications enable row level security;
-- No policies: only service_role (bypasses RLS) and the owner read or write it; the schema is not exposed.
revoke all on automation.payment_notifications from public;
grant select, insert on automation.payment_notifications to service_role;

-- ---------------------------------------------------------------------------------------------
-- apply_payment_notification
-- ---------------------------------------------------------------------------------------------

create function public.apply_payment_notification(
  provider text,
  event text,
  object_id text,
  api_object jsonb
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  events constant text[] := array[
    'payment.succeeded', 'payment.waiting_for_capture', 'payment.canceled', 'refund.succeeded'
  ];
  is_refund boolean := apply_payment_notification.event = 'refund.succeeded';
  expected_status text := pg_catalog.split_part(apply_payment_notification.event, '.', 2);
  api_status text := apply_payment_notification.api_object ->> 'status';
  provider_payment text;
  our_payment_id uuid;
  api_amount numeric;
  api_currency text;
  payment record;
  payment_ref uuid;
  target text;
  outcome text;
  refusal text;
  details jsonb;
begin
  if apply_payment_notification.provider is null or apply_payment_notification.provider !~ '^[a-z][a-z0-9_]*$' then
    raise exception 'apply_payment_notification: provider must be a lower-case name, e.g. yookassa'
      using errcode = 'invalid_parameter_value';
  end if;
  if apply_payment_notification.event is null or apply_payment_notification.event <> all (events) then
    raise exception 'apply_payment_notification: event "%" is unknown (expected one of %)',
      apply_payment_notification.event, pg_catalog.array_to_string(events, ', ')
      using errcode = 'invalid_parameter_value';
  end if;
  if apply_payment_notification.object_id is null or pg_catalog.length(apply_payment_notification.object_id) not between 1 and 200 then
    raise exception 'apply_payment_notification: object_id must be 1 to 200 characters'
      using errcode = 'invalid_parameter_value';
  end if;
  if apply_payment_notification.api_object is not null
    and pg_catalog.jsonb_typeof(apply_payment_notification.api_object) <> 'object'
  then
    raise exception 'apply_payment_notification: api_object must be the provider''s JSON object or null (not found)'
      using errcode = 'invalid_parameter_value';
  end if;

  details := pg_catalog.jsonb_build_object('api_status', api_status);

  -- What the provider's API says decides; the notification only names the object.
  if apply_payment_notification.api_object is null then
    refusal := 'not_found';
  elsif apply_payment_notification.api_object ->> 'id' is distinct from apply_payment_notification.object_id then
    refusal := 'id_mismatch';
  elsif api_status is distinct from expected_status then
    refusal := 'status_mismatch';
  end if;

  if refusal is null then
    begin
      api_amount := (apply_payment_notification.api_object -> 'amount' ->> 'value')::numeric;
    exception when invalid_text_representation then
      api_amount := null;
    end;
    api_currency := apply_payment_notification.api_object -> 'amount' ->> 'currency';
    details := details || pg_catalog.jsonb_build_object('api_amount', api_amount, 'api_currency', api_currency);
    if is_refund then
      provider_payment := apply_payment_notification.api_object ->> 'payment_id';
    else
      provider_payment := apply_payment_notification.object_id;
      if (apply_payment_notification.api_object -> 'metadata' ->> 'payment_id') ~ '^[0-9a-fA-F-]{36}$' then
        our_payment_id := (apply_payment_notification.api_object -> 'metadata' ->> 'payment_id')::uuid;
      end if;
    end if;

    -- The row is locked: deliveries about one payment are decided one after the other.
    select p.id, p.status, p.amount, p.currency, p.provider_payment_id, p.appointment_id
    into payment
    from public.payments p
    where p.provider = apply_payment_notification.provider
      and (p.provider_payment_id = provider_payment
        or (p.id = our_payment_id and p.provider_payment_id is null))
    order by p.provider_payment_id is null
    limit 1
    for update;

    if not found or (our_payment_id is not null and payment.id <> our_payment_id) then
      refusal := 'unknown_payment';
    else
      payment_ref := payment.id;
      if api_currency is distinct from payment.currency::text then
        refusal := 'currency_mismatch';
      elsif api_amount is distinct from payment.amount then
        refusal := 'amount_mismatch';
      end if;
    end if;
  end if;

  if refusal is null then
    if exists (
      select 1
      from automation.payment_notifications n
      where n.provider = apply_payment_notification.provider
        and n.event = apply_payment_notification.event
        and n.object_id = apply_payment_notification.object_id
        and n.outcome <> 'refused'
    ) then
      return pg_catalog.jsonb_build_object('outcome', 'duplicate', 'payment_id', payment.id, 'status', payment.status);
    end if;

    target := case apply_payment_notification.event
      when 'payment.succeeded' then 'completed'
      when 'payment.canceled' then 'failed'
      when 'refund.succeeded' then 'refunded'
    end;
    if target is null then
      -- waiting_for_capture: payments are created with capture, so there is nothing to do.
      outcome := 'ignored';
    elsif payment.status = target or (payment.status = 'refunded' and target = 'completed') then
      outcome := 'unchanged';
    elsif (target in ('completed', 'failed') and payment.status = 'pending')
      or (target = 'refunded' and payment.status = 'completed')
    then
      outcome := 'applied';
    else
      refusal := 'status_conflict';
      details := details || pg_catalog.jsonb_build_object('our_status', payment.status);
    end if;
  end if;

  if refusal is not null then
    -- Which of our payments the refused notification named, when one matches (for the person who looks).
    payment_ref := coalesce(payment_ref, (
      select p.id from public.payments p
      where p.provider = apply_payment_notification.provider
        and p.provider_payment_id = apply_payment_notification.object_id
    ));
    insert into automation.payment_notifications (provider, event, object_id, payment_id, outcome, reason, details)
    values (
      apply_payment_notification.provider, apply_payment_notification.event, apply_payment_notification.object_id,
      payment_ref, 'refused', refusal, details
    );
    raise warning 'apply_payment_notification: refused % % from %: %',
      apply_payment_notification.event, apply_payment_notification.object_id, apply_payment_notification.provider, refusal;
    return pg_catalog.jsonb_build_object('outcome', 'refused', 'reason', refusal, 'payment_id', payment_ref);
  end if;

  if outcome = 'applied' then
    -- The status triggers (032's on_payment_status_change, on_payment_reversed) do the rest.
    update public.payments p
    set status = target,
        provider_payment_id = coalesce(p.provider_payment_id, provider_payment),
        failure_reason = case
          when target = 'failed'
            then coalesce(apply_payment_notification.api_object -> 'cancellation_details' ->> 'reason', 'canceled')
          else p.failure_reason
        end
    where p.id = payment.id;

    -- Paid for an appointment that was cancelled meanwhile: the money goes back.
    if target = 'completed' and exists (
      select 1 from public.appointments a where a.id = payment.appointment_id and a.status = 'cancelled'
    ) then
      perform public.queue_payment_processing(payment.id, 'refund', 'refund:' || payment.id::text);
    end if;
  end if;

  insert into automation.payment_notifications (provider, event, object_id, payment_id, outcome, details)
  values (
    apply_payment_notification.provider, apply_payment_notification.event, apply_payment_notification.object_id,
    payment.id, outcome, details
  );
  return pg_catalog.jsonb_build_object(
    'outcome', outcome,
    'payment_id', payment.id,
    'status', case when outcome = 'applied' then target else payment.status end
  );
end;
$$;

comment on function public.apply_payment_notification(text, text, text, jsonb) is
  'service_role (the yookassa-webhook Edge Function; the worker after it created a refund): applies a provider event (payment.succeeded, payment.waiting_for_capture, payment.canceled, refund.succeeded) as the provider''s API describes the object (api_object; null when the API does not know it) to public.payments. Returns {outcome: applied|unchanged|ignored|duplicate|refused, reason?, payment_id?, status?}. Once per provider event; a refusal changes no payment and is recorded in automation.payment_notifications. Bad arguments raise 22023.';

revoke execute on function public.apply_payment_notification(text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.apply_payment_notification(text, text, text, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- start_appointment_payment, attach_provider_payment
-- ---------------------------------------------------------------------------------------------

create function public.start_appointment_payment(appointment_id uuid)
returns table (payment_id uuid, amount numeric, currency text, provider_payment_id text, description text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  caller uuid := auth.uid();
  appointment record;
  payment record;
begin
  if start_appointment_payment.appointment_id is null then
    raise exception 'start_appointment_payment: appointment_id must not be null' using errcode = 'invalid_parameter_value';
  end if;
  select a.id, a.user_id, a.status, a.payment_status, a.price_amount, a.currency, a.starts_at, a.specialist_name
  into appointment
  from public.appointments a
  where a.id = start_appointment_payment.appointment_id
    and a.user_id = caller
  for update;
  if not found then
    raise exception 'start_appointment_payment: appointment not found' using errcode = 'no_data_found';
  end if;
  if appointment.status <> 'scheduled' then
    raise exception 'start_appointment_payment: the appointment is %, only a scheduled one can be paid', appointment.status
      using errcode = 'invalid_parameter_value';
  end if;
  if appointment.payment_status in ('paid', 'refunded') then
    raise exception 'start_appointment_payment: the appointment is already %', appointment.payment_status
      using errcode = 'invalid_parameter_value';
  end if;
  if appointment.price_amount is null or appointment.price_amount <= 0 then
    raise exception 'start_appointment_payment: the appointment has no price to pay'
      using errcode = 'invalid_parameter_value';
  end if;

  -- Asking again continues the payment in progress (the same provider payment, by its idempotence key).
  select p.id, p.amount, p.currency, p.provider_payment_id
  into payment
  from public.payments p
  where p.appointment_id = appointment.id and p.status = 'pending'
  order by p.created_at desc
  limit 1;
  if not found or payment.amount <> appointment.price_amount or payment.currency <> appointment.currency then
    insert into public.payments (user_id, appointment_id, amount, currency, provider)
    values (appointment.user_id, appointment.id, appointment.price_amount, appointment.currency, 'yookassa')
    returning id, amount, currency, provider_payment_id into payment;
  end if;
  update public.appointments a set payment_status = 'pending'
  where a.id = appointment.id and a.payment_status <> 'pending';

  return query select payment.id, payment.amount, payment.currency::text, payment.provider_payment_id,
    'Консультация ' || appointment.specialist_name || ', '
      || pg_catalog.to_char(appointment.starts_at at time zone 'Europe/Moscow', 'DD.MM.YYYY HH24:MI');
end;
$$;

comment on function public.start_appointment_payment(uuid) is
  'authenticated (the create-payment Edge Function calls it with the user''s JWT): the pending payment of the caller''s own scheduled appointment at the appointment''s price (created when there is none), and marks the appointment''s payment_status pending. The amount always comes from public.appointments, never from the client. P0002 for an appointment that is not the caller''s; 22023 when it cannot be paid.';

revoke execute on function public.start_appointment_payment(uuid) from public, anon, service_role;
grant execute on function public.start_appointment_payment(uuid) to authenticated;

create function public.attach_provider_payment(payment_id uuid, provider_payment_id text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  current_id text;
begin
  if attach_provider_payment.provider_payment_id is null
    or pg_catalog.length(attach_provider_payment.provider_payment_id) not between 1 and 200
  then
    raise exception 'attach_provider_payment: provider_payment_id must be 1 to 200 characters'
      using errcode = 'invalid_parameter_value';
  end if;
  select p.provider_payment_id into current_id
  from public.payments p where p.id = attach_provider_payment.payment_id
  for update;
  if not found then
    raise exception 'attach_provider_payment: payment % not found', attach_provider_payment.payment_id
      using errcode = 'no_data_found';
  end if;
  if current_id is null then
    update public.payments p set provider_payment_id = attach_provider_payment.provider_payment_id
    where p.id = attach_provider_payment.payment_id;
  elsif current_id <> attach_provider_payment.provider_payment_id then
    raise exception 'attach_provider_payment: payment % is already linked to another provider payment',
      attach_provider_payment.payment_id
      using errcode = 'invalid_parameter_value';
  end if;
end;
$$;

comment on function public.attach_provider_payment(uuid, text) is
  'service_role (the create-payment Edge Function): records the provider''s id of our payment once; the same id again is a no-op, another one raises 22023.';

revoke execute on function public.attach_provider_payment(uuid, text) from public, anon, authenticated;
grant execute on function public.attach_provider_payment(uuid, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- queue_payment_processing: + refund
-- ---------------------------------------------------------------------------------------------

create or replace function public.queue_payment_processing(
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
  if queue_payment_processing.action not in ('verify', 'completed', 'failed', 'refund') then
    raise exception 'queue_payment_processing: action "%" is unknown (expected verify, completed, failed or refund)',
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
  'Queues a payment job (payment_processing_queue) and returns its msg_id. Called by service_role (server code) and by the cancellation trigger. action: verify, completed or failed (each: ask the provider and follow it), refund (ask the provider to refund a completed payment). Bad arguments raise SQLSTATE 22023.';

-- ---------------------------------------------------------------------------------------------
-- queue_email_task: + payment_refunded, appointment_cancelled (043's function otherwise)
-- ---------------------------------------------------------------------------------------------

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
    'appointment_reminder_1h', 'payment_succeeded', 'payment_failed', 'payment_refunded',
    'appointment_cancelled'
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
-- on_payment_reversed: failed and refunded payments
-- ---------------------------------------------------------------------------------------------

create function public.handle_payment_reversed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
  has_profile boolean := false;
begin
  if new.status = 'failed' then
    -- The appointment can be paid again (032 already sent payment_failed).
    update public.appointments a
    set payment_status = 'unpaid'
    where a.id = new.appointment_id
      and a.payment_status = 'pending'
      and not exists (
        select 1 from public.payments p
        where p.appointment_id = a.id and p.id <> new.id and p.status in ('pending', 'completed')
      );
    return null;
  end if;

  update public.appointments a
  set payment_status = 'refunded'
  where a.id = new.appointment_id
    and a.payment_status is distinct from 'refunded';

  if new.user_id is not null then
    select p.email, p.full_name, p.locale, p.timezone
    into owner_profile
    from public.profiles p
    where p.id = new.user_id;
    has_profile := found;
  end if;
  if has_profile and public.is_email_address(owner_profile.email) then
    perform public.queue_email_task(
      "to" => owner_profile.email,
      subject => null,
      template => 'payment_refunded',
      variables => pg_catalog.jsonb_build_object(
        'user_name', owner_profile.full_name,
        'payment_id', new.id,
        'amount', new.amount,
        'currency', new.currency,
        'refunded_at', pg_catalog.now()
      ),
      priority => 1,
      locale => owner_profile.locale,
      timezone => owner_profile.timezone,
      idempotency_key => 'payment_refunded:' || new.id,
      user_id => new.user_id
    );
  else
    raise warning 'handle_payment_reversed: no payment_refunded email for payment %: user % has %',
      new.id, coalesce(new.user_id::text, '(deleted)'),
      case when has_profile then 'an address the email queue refuses' else 'no profile' end;
  end if;
  return null;
end;
$$;

comment on function public.handle_payment_reversed() is
  'Trigger function on_payment_reversed (after update of status on public.payments, when it becomes failed or refunded): failed makes the appointment''s payment_status unpaid again (payable) unless another payment covers it; refunded makes it refunded and queues the payment_refunded email (skipped with a WARNING when the payer has no usable address). Security definer. Not callable directly.';

revoke execute on function public.handle_payment_reversed() from public, anon, authenticated, service_role;

create trigger on_payment_reversed
  after update of status on public.payments
  for each row
  when (new.status in ('failed', 'refunded') and old.status is distinct from new.status)
  execute function public.handle_payment_reversed();

-- ---------------------------------------------------------------------------------------------
-- on_appointment_cancelled
-- ---------------------------------------------------------------------------------------------

create function public.handle_appointment_cancelled()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
  refunds integer := 0;
  paid record;
  -- The email and the event count against the owner's allowance like a booking's (039): a user who
  -- books and cancels in a loop cannot queue unbounded mail. Refunds are money owed: never held back.
  admitted text[] := automation.admit_user_work(new.user_id, array['confirmation_emails', 'events']);
begin
  -- Each completed payment goes back through the provider (the worker's refund action).
  for paid in
    select p.id from public.payments p
    where p.appointment_id = new.id and p.status = 'completed'
    order by p.created_at
  loop
    perform public.queue_payment_processing(paid.id, 'refund', 'refund:' || paid.id::text);
    refunds := refunds + 1;
  end loop;

  select p.email, p.full_name, p.locale, p.timezone
  into owner_profile
  from public.profiles p
  where p.id = new.user_id;

  if not ('confirmation_emails' = any (admitted)) then
    null; -- over the allowance: counted as held back by admit_user_work
  elsif found and public.is_email_address(owner_profile.email) then
    perform public.queue_email_task(
      "to" => owner_profile.email,
      subject => null,
      template => 'appointment_cancelled',
      variables => pg_catalog.jsonb_build_object(
        'user_name', owner_profile.full_name,
        'appointment_id', new.id,
        'starts_at', new.starts_at,
        'ends_at', new.ends_at,
        'consultant_name', new.specialist_name,
        'refund_requested', refunds > 0
      ),
      priority => 1,
      locale => owner_profile.locale,
      timezone => owner_profile.timezone,
      idempotency_key => 'appointment_cancelled:' || new.id,
      user_id => new.user_id
    );
  else
    raise warning 'handle_appointment_cancelled: no appointment_cancelled email for appointment %: user % has %',
      new.id, new.user_id, case when found then 'an address the email queue refuses' else 'no profile' end;
  end if;

  if 'events' = any (admitted) then
    perform public.track_event(
      event => 'appointment_cancelled',
      entity_id => new.id::text,
      user_id => new.user_id,
      properties => pg_catalog.jsonb_build_object(
        'starts_at', new.starts_at,
        'cancelled_by', case when new.user_id = (select auth.uid()) then 'user' else 'service' end,
        'refunds', refunds
      ),
      occurred_at => pg_catalog.now(),
      idempotency_key => 'analytics:appointment_cancelled:' || new.id
    );
  end if;
  return null;
end;
$$;

comment on function public.handle_appointment_cancelled() is
  'Trigger function on_appointment_cancelled (after update of status on public.appointments, when it becomes cancelled: by its user through RLS, or by an operator or the service): queues a refund job for each completed payment of the appointment, the appointment_cancelled email (high priority; skipped with a WARNING without a usable address) and the appointment_cancelled event, the email and the event within the owner''s allowance (automation.admit_user_work). Security definer. Not callable directly.';

revoke execute on function public.handle_appointment_cancelled() from public, anon, authenticated, service_role;

create trigger on_appointment_cancelled
  after update of status on public.appointments
  for each row
  when (new.status = 'cancelled' and old.status is distinct from 'cancelled')
  execute function public.handle_appointment_cancelled();

-- ---------------------------------------------------------------------------------------------
-- report_requested and email_sent: emitted where they happen
-- ---------------------------------------------------------------------------------------------

create function automation.handle_report_requested()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform public.track_event(
    event => 'report_requested',
    entity_id => new.assessment_id::text,
    user_id => new.user_id,
    properties => pg_catalog.jsonb_build_object('request_id', new.id),
    occurred_at => new.requested_at,
    idempotency_key => 'analytics:report_requested:' || new.id
  );
  return null;
end;
$$;

comment on function automation.handle_report_requested() is
  'Trigger function on_report_requested (after insert on automation.report_requests, i.e. request_assessment_report): queues the report_requested event. Not callable directly.';

revoke execute on function automation.handle_report_requested() from public, anon, authenticated, service_role;

create trigger on_report_requested
  after insert on automation.report_requests
  for each row
  execute function automation.handle_report_requested();

create function automation.handle_email_sent()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- No address, no body: the template says what kind of email it was.
  perform public.track_event(
    event => 'email_sent',
    entity_id => pg_catalog.md5(new.idempotency_key),
    user_id => null,
    properties => pg_catalog.jsonb_build_object('template', new.template, 'attempts', new.attempts),
    occurred_at => coalesce(new.sent_at, pg_catalog.now()),
    idempotency_key => 'analytics:email_sent:' || pg_catalog.md5(new.idempotency_key)
  );
  return null;
end;
$$;

comment on function automation.handle_email_sent() is
  'Trigger function on_email_sent (after a row of automation.email_deliveries becomes sent: the SMTP server accepted the email): queues the email_sent event (template and attempts; no address). Not callable directly.';

revoke execute on function automation.handle_email_sent() from public, anon, authenticated, service_role;

create trigger on_email_sent_insert
  after insert on automation.email_deliveries
  for each row
  when (new.status = 'sent')
  execute function automation.handle_email_sent();

create trigger on_email_sent_update
  after update of status on automation.email_deliveries
  for each row
  when (new.status = 'sent' and old.status is distinct from 'sent')
  execute function automation.handle_email_sent();

-- ---------------------------------------------------------------------------------------------
-- The console's test email knows the two new templates (041's function, with their examples)
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
