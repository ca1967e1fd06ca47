-- 032_webhook_triggers.sql: "database webhooks" as AFTER triggers that queue work in the same
-- transaction as the change (the change and its messages commit together or not at all).
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction; needs 001
-- (the tables) and 031 (the queues and the queue_* helpers, which hold all message validation).
--
--   trigger                   fires when                         queues
--   on_checkup_completed      assessments.status becomes         report (pdf, requested_by trigger),
--                             completed                          email checkup_completed,
--                                                                event checkup_completed
--   on_new_appointment        an appointment is inserted,        email appointment_confirmation (high),
--                             unless cancelled                   event appointment_booked
--   on_payment_status_change  payments.status becomes completed  email payment_succeeded (high),
--                                                                event payment_completed; and marks
--                                                                the appointment's payment_status paid
--                             ... becomes failed                 email payment_failed (high),
--                                                                event payment_failed
--
-- Only real transitions fire: the WHEN clauses compare old and new status, so an update that
-- leaves the status alone costs nothing. Idempotency keys are deterministic
-- (`<template>:<id>` for emails, `report:<assessment_id>:pdf`, `analytics:<event>:<id>`), so a
-- duplicate enqueue (a status flipped back and forth) is dropped downstream.
--
-- The user's change never fails because of an email: when the owner has no profile (a payment
-- kept after its user was deleted) or an address the email queue refuses, the email is skipped
-- with a WARNING and everything else is still queued.
--
-- The functions are security definer (owner: the migrating role) because the user whose change
-- fires them (authenticated, through PostgREST) has no rights on pgmq or on the queue helpers.
-- Trigger functions need no execute grant to fire, so execute is revoked from everyone.
--
-- Bulk copies of existing rows (a data transfer to a new project) must not send emails for the
-- past: load them with `set session_replication_role = replica`, which skips these triggers.

-- ---------------------------------------------------------------------------------------------
-- on_checkup_completed
-- ---------------------------------------------------------------------------------------------

create function public.handle_completed_checkup()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
begin
  perform public.queue_report_generation(
    assessment_id => new.id,
    user_id => new.user_id,
    report_type => 'pdf',
    idempotency_key => 'report:' || new.id || ':pdf',
    requested_by => 'trigger'
  );

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

  perform public.track_event(
    event => 'checkup_completed',
    entity_id => new.id::text,
    user_id => new.user_id,
    properties => pg_catalog.jsonb_build_object('kind', new.kind),
    occurred_at => coalesce(new.completed_at, pg_catalog.now()),
    idempotency_key => 'analytics:checkup_completed:' || new.id
  );
  return null;
end;
$$;

comment on function public.handle_completed_checkup() is
  'Trigger function on_checkup_completed (after update of status on public.assessments, when the status becomes completed): queues the PDF report, the checkup_completed email (skipped with a WARNING when the owner has no usable address) and the checkup_completed event. Security definer: the user completing a checkup has no rights on the queues. Not callable directly.';

revoke execute on function public.handle_completed_checkup() from public, anon, authenticated, service_role;

create trigger on_checkup_completed
  after update of status on public.assessments
  for each row
  when (new.status = 'completed' and old.status is distinct from 'completed')
  execute function public.handle_completed_checkup();

-- ---------------------------------------------------------------------------------------------
-- on_new_appointment
-- ---------------------------------------------------------------------------------------------

create function public.handle_new_appointment()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
begin
  select p.email, p.full_name, p.locale, p.timezone
  into owner_profile
  from public.profiles p
  where p.id = new.user_id;

  if found and public.is_email_address(owner_profile.email) then
    -- High priority: the user is waiting for this one.
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
      priority => 1,
      locale => owner_profile.locale,
      timezone => owner_profile.timezone,
      idempotency_key => 'appointment_confirmation:' || new.id,
      user_id => new.user_id
    );
  else
    raise warning 'handle_new_appointment: no appointment_confirmation email for appointment %: user % has %',
      new.id, new.user_id, case when found then 'an address the email queue refuses' else 'no profile' end;
  end if;

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
  return null;
end;
$$;

comment on function public.handle_new_appointment() is
  'Trigger function on_new_appointment (after insert on public.appointments, unless the new row is cancelled): queues the appointment_confirmation email (high priority; skipped with a WARNING when the owner has no usable address) and the appointment_booked event. Security definer: the user booking has no rights on the queues. Not callable directly.';

revoke execute on function public.handle_new_appointment() from public, anon, authenticated, service_role;

create trigger on_new_appointment
  after insert on public.appointments
  for each row
  when (new.status is distinct from 'cancelled')
  execute function public.handle_new_appointment();

-- ---------------------------------------------------------------------------------------------
-- on_payment_status_change
-- ---------------------------------------------------------------------------------------------

create function public.handle_payment_status_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_profile record;
  has_profile boolean := false;
  email_template text;
  email_variables jsonb;
  event_name text;
begin
  email_variables := pg_catalog.jsonb_build_object(
    'payment_id', new.id,
    'amount', new.amount,
    'currency', new.currency
  );
  case new.status
    when 'completed' then
      email_template := 'payment_succeeded';
      email_variables := email_variables || pg_catalog.jsonb_build_object('paid_at', pg_catalog.now());
      event_name := 'payment_completed';
    when 'failed' then
      email_template := 'payment_failed';
      email_variables := email_variables || pg_catalog.jsonb_build_object('failure_reason', new.failure_reason);
      event_name := 'payment_failed';
    else
      -- pending, refunded: nothing to tell anyone.
      return null;
  end case;

  if new.status = 'completed' and new.appointment_id is not null then
    -- Only the payment status: the appointment's own status belongs to the scheduler.
    update public.appointments a
    set payment_status = 'paid'
    where a.id = new.appointment_id
      and a.payment_status is distinct from 'paid';
  end if;

  if new.user_id is not null then
    select p.email, p.full_name, p.locale, p.timezone
    into owner_profile
    from public.profiles p
    where p.id = new.user_id;
    has_profile := found;
  end if;

  if has_profile and public.is_email_address(owner_profile.email) then
    -- High priority: the payer is waiting for the outcome.
    perform public.queue_email_task(
      "to" => owner_profile.email,
      subject => null,
      template => email_template,
      variables => email_variables || pg_catalog.jsonb_build_object('user_name', owner_profile.full_name),
      priority => 1,
      locale => owner_profile.locale,
      timezone => owner_profile.timezone,
      idempotency_key => email_template || ':' || new.id,
      user_id => new.user_id
    );
  else
    raise warning 'handle_payment_status_change: no % email for payment %: user % has %',
      email_template, new.id, coalesce(new.user_id::text, '(deleted)'),
      case when has_profile then 'an address the email queue refuses' else 'no profile' end;
  end if;

  perform public.track_event(
    event => event_name,
    entity_id => new.id::text,
    user_id => new.user_id,
    properties => pg_catalog.jsonb_build_object(
      'appointment_id', new.appointment_id,
      'amount', new.amount,
      'currency', new.currency,
      'provider', new.provider
    ),
    occurred_at => pg_catalog.now(),
    idempotency_key => 'analytics:' || event_name || ':' || new.id
  );
  return null;
end;
$$;

comment on function public.handle_payment_status_change() is
  'Trigger function on_payment_status_change (after update of status on public.payments, when it changes): on completed marks the appointment paid and queues payment_succeeded + payment_completed; on failed queues payment_failed (with failure_reason) + payment_failed. The email is skipped with a WARNING when the payer has no profile (deleted user) or no usable address. Security definer. Not callable directly.';

revoke execute on function public.handle_payment_status_change() from public, anon, authenticated, service_role;

create trigger on_payment_status_change
  after update of status on public.payments
  for each row
  when (old.status is distinct from new.status)
  execute function public.handle_payment_status_change();
