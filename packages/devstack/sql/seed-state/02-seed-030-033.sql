-- The seed-era 030–033 as the seed-era team describes them, applied by hand in the SQL editor of the
-- live project (TEST FIXTURE, never a migration): nothing is recorded in
-- supabase_migrations.schema_migrations. Names, argument names and cron job names are the seed era's;
-- every function is left with Supabase's default grants (executable by everyone), as in the seed era
-- left them. pg_cron's part is in 03-seed-cron.sql (only where the server has pg_cron).

-- 031: the queues and the producer helpers --------------------------------------------------

select pgmq.create('email_queue');
select pgmq.create('report_generation_queue');
select pgmq.create('payment_processing_queue');
select pgmq.create('analytics_queue');

create function public.queue_email_task(
  "to" text,
  subject text,
  template text,
  variables jsonb default '{}'::jsonb,
  priority integer default 0
)
returns bigint
language plpgsql
security definer
as $$
declare
  msg_id bigint;
begin
  select * into msg_id from pgmq.send('email_queue', jsonb_build_object(
    'to', "to", 'subject', subject, 'template', template, 'variables', variables, 'priority', priority
  ));
  return msg_id;
end;
$$;

create function public.queue_report_generation(assessment_id uuid, user_id uuid, report_type text default 'pdf')
returns bigint
language plpgsql
security definer
as $$
declare
  msg_id bigint;
begin
  select * into msg_id from pgmq.send('report_generation_queue', jsonb_build_object(
    'assessment_id', assessment_id, 'user_id', user_id, 'report_type', report_type
  ));
  return msg_id;
end;
$$;

create function public.queue_payment_processing(payment_id uuid, action text)
returns bigint
language plpgsql
security definer
as $$
declare
  msg_id bigint;
begin
  select * into msg_id from pgmq.send('payment_processing_queue', jsonb_build_object(
    'payment_id', payment_id, 'action', action
  ));
  return msg_id;
end;
$$;

-- 030: the cron jobs' functions -----------------------------------------------------------------

create function public.update_appointment_statuses()
returns void
language plpgsql
security definer
as $$
begin
  update public.appointments set status = 'in_progress'
  where status = 'scheduled' and starts_at <= now() and ends_at > now();
  update public.appointments set status = 'completed'
  where status = 'in_progress' and ends_at <= now();
end;
$$;

create function public.send_appointment_reminders()
returns void
language plpgsql
security definer
as $$
declare
  a record;
begin
  for a in
    select ap.id, ap.starts_at, p.email, p.full_name
    from public.appointments ap join public.profiles p on p.id = ap.user_id
    where ap.status = 'scheduled'
      and (ap.starts_at between now() + interval '23 hours' and now() + interval '24 hours'
        or ap.starts_at between now() and now() + interval '1 hour')
  loop
    perform public.queue_email_task(a.email, 'Напоминание о консультации', 'appointment_reminder',
      jsonb_build_object('name', a.full_name, 'appointment_id', a.id, 'starts_at', a.starts_at), 1);
  end loop;
end;
$$;

-- 032: the "database webhooks" -----------------------------------------------------------------

create function public.handle_completed_checkup()
returns trigger
language plpgsql
security definer
as $$
declare
  user_email text;
  user_name text;
begin
  if new.status = 'completed' and (old.status is null or old.status <> 'completed') then
    select email, full_name into user_email, user_name from public.profiles where id = new.user_id;
    perform public.queue_report_generation(new.id, new.user_id, 'pdf');
    perform public.queue_email_task(user_email, 'Ваш чекап завершен', 'checkup_completed',
      jsonb_build_object('name', user_name, 'assessment_id', new.id), 0);
    perform pgmq.send('analytics_queue', jsonb_build_object(
      'event_type', 'checkup_completed', 'user_id', new.user_id, 'assessment_id', new.id, 'timestamp', now()
    ));
  end if;
  return new;
end;
$$;

create trigger on_checkup_completed
  after update on public.assessments
  for each row execute function public.handle_completed_checkup();

create function public.handle_new_appointment()
returns trigger
language plpgsql
security definer
as $$
declare
  user_email text;
  user_name text;
begin
  select email, full_name into user_email, user_name from public.profiles where id = new.user_id;
  perform public.queue_email_task(user_email, 'Запись на консультацию подтверждена', 'appointment_confirmation',
    jsonb_build_object('name', user_name, 'appointment_id', new.id, 'starts_at', new.starts_at), 1);
  return new;
end;
$$;

create trigger on_new_appointment
  after insert on public.appointments
  for each row execute function public.handle_new_appointment();

create function public.handle_payment_status_change()
returns trigger
language plpgsql
security definer
as $$
declare
  user_email text;
  user_name text;
begin
  if new.status is distinct from old.status then
    select email, full_name into user_email, user_name from public.profiles where id = new.user_id;
    if new.status = 'completed' then
      perform public.queue_email_task(user_email, 'Оплата получена', 'payment_succeeded',
        jsonb_build_object('name', user_name, 'payment_id', new.id, 'amount', new.amount), 1);
      update public.appointments set payment_status = 'paid' where id = new.appointment_id;
    elsif new.status = 'failed' then
      perform public.queue_email_task(user_email, 'Ошибка оплаты', 'payment_failed',
        jsonb_build_object('name', user_name, 'payment_id', new.id), 1);
    end if;
    perform public.queue_payment_processing(new.id, 'verify');
  end if;
  return new;
end;
$$;

create trigger on_payment_status_change
  after update on public.payments
  for each row execute function public.handle_payment_status_change();

-- 033: the RPC wrappers PostgREST calls (supabase.rpc('pgmq_read', {queue_name, vt})) ------------

create function public.pgmq_send(queue_name text, message jsonb, delay integer default 0)
returns bigint
language sql
security definer
as $$ select * from pgmq.send(queue_name, message, delay); $$;

create function public.pgmq_read(queue_name text, vt integer default 30, qty integer default 1)
returns table (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, msg jsonb)
language sql
security definer
as $$ select r.msg_id, r.read_ct, r.enqueued_at, r.vt, r.message from pgmq.read(queue_name, vt, qty) r; $$;

create function public.pgmq_archive(queue_name text, msg_id bigint)
returns boolean
language sql
security definer
as $$ select pgmq.archive(queue_name, msg_id); $$;

create function public.pgmq_delete(queue_name text, msg_id bigint)
returns boolean
language sql
security definer
as $$ select pgmq.delete(queue_name, msg_id); $$;

create function public.pgmq_metrics(queue_name text)
returns table (queue_name text, queue_length bigint, newest_msg_age_sec integer, oldest_msg_age_sec integer, total_messages bigint)
language sql
security definer
as $$ select m.queue_name, m.queue_length, m.newest_msg_age_sec, m.oldest_msg_age_sec, m.total_messages from pgmq.metrics(queue_name) m; $$;

-- A seed-era helper the documents never name: the dashboard's analytics summary.
create function public.get_user_analytics(p_user_id uuid)
returns jsonb
language sql
stable
security definer
as $$
  select jsonb_build_object(
    'assessments_completed', (select count(*) from public.assessments where user_id = p_user_id and status = 'completed')
  );
$$;

-- The Supabase CLI's history table exists on every project; the SQL editor records nothing in it.
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
