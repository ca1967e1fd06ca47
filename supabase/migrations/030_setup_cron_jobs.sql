-- 030_setup_cron_jobs.sql: the scheduled jobs (appointment statuses, reminders, checkup cleanup,
-- housekeeping), their definitions in one table, and pg_cron where this database can have it.
--
-- Runs unchanged on Supabase Cloud (PostgreSQL 15 and 17; pg_cron lives in database `postgres`) and on
-- local PostgreSQL with or without pg_cron; inside one transaction. Never fails because pg_cron is
-- missing: without it the worker's scheduler runs the same definitions.
--
-- One source of truth: automation.cron_jobs. Two schedulers read it:
--   * pg_cron, when it is installed in this database: automation.schedule_cron_jobs() copies every
--     enabled definition into cron.job (cron.schedule upserts by job name) and unschedules disabled
--     ones. This file calls it once; call it again after editing the table.
--   * the worker's fallback scheduler (apps/worker), where pg_cron is absent: it reads the table with
--     service_role, runs each command on its schedule under an advisory lock, and records each run in
--     automation.job_run_details (shaped like cron.job_run_details).
--
-- Time: pg_cron evaluates schedules in GMT (its default cron.timezone, which Supabase keeps; the
-- devstack sets UTC), and so does the fallback scheduler. Moscow is UTC+3 all year (no daylight saving time since 2014), so 03:00 Moscow
-- is `0 0 * * *`. Each definition says its Moscow time in its description.
--
--   job                          schedule (UTC)   Moscow time            command
--   update-appointment-statuses  */5 * * * *      every 5 minutes        select public.update_appointment_statuses()
--   send-appointment-reminders   0 * * * *        every hour at :00      select public.send_appointment_reminders()
--   cleanup-old-assessments      0 0 * * *        daily at 03:00         select public.cleanup_old_assessments()
--   purge-queue-archives         0 1 * * *        daily at 04:00         select automation.purge_queue_archives()
--   purge-cron-history           30 1 * * *       daily at 04:30         select automation.purge_cron_history()
--
-- Every job function takes `p_now timestamptz default now()` so tests move time instead of sleeping,
-- changes its rows in one set-based statement that an index from 001 keeps cheap at a million rows
-- (bench/cron-functions.ts), and is security definer for service_role (the fallback scheduler) and
-- its owner (pg_cron runs the jobs as the role that scheduled them, the migration role).
--
-- This file calls nothing from 031_setup_queues.sql at creation time (plpgsql bodies are resolved when
-- they run): the reminders use 031's email_queue (pgmq.send_batch) and public.is_email_address.

-- ---------------------------------------------------------------------------------------------
-- Schema `automation`: not exposed through the API (never add it to PostgREST's schemas)
-- ---------------------------------------------------------------------------------------------

create schema if not exists automation;

comment on schema automation is
  'Scheduled-job definitions, settings and the fallback scheduler''s run history. Not exposed through the API; read by service_role (the worker).';

revoke all on schema automation from public, anon, authenticated;
grant usage on schema automation to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.settings: tunables of the housekeeping jobs
-- ---------------------------------------------------------------------------------------------

create table automation.settings (
  key text primary key,
  value text not null,
  description text,
  constraint settings_key_check check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  -- A retention that does not parse as an interval, or is shorter than an hour, is refused when it is
  -- written rather than when the purge job reads it at night.
  constraint settings_retention_check check (key !~ '_retention$' or value::interval >= interval '1 hour')
);

comment on table automation.settings is
  'Settings of the scheduled jobs, one row per key (value as text). Changed by an operator with SQL; read by the housekeeping functions at each run.';

insert into automation.settings (key, value, description) values
  ('archive_retention', '14 days',
   'How long archived queue messages (pgmq.a_<queue>) are kept for audit before purge-queue-archives deletes them.'),
  ('cron_history_retention', '14 days',
   'How long run history (cron.job_run_details and automation.job_run_details) is kept before purge-cron-history deletes it.');

alter table automation.settings enable row level security;
-- No policy: only the owner and service_role (bypassrls) read it; nobody else has a grant.
revoke all on table automation.settings from public, anon, authenticated;
grant select on table automation.settings to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.cron_jobs: the job definitions
-- ---------------------------------------------------------------------------------------------

create table automation.cron_jobs (
  name text primary key,
  schedule text not null,
  command text not null,
  description text,
  enabled boolean not null default true,
  -- pg_cron's job names are free text; ours are kebab-case so they read the same in cron.job, in the
  -- worker's logs and in the console.
  constraint cron_jobs_name_check check (name ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$'),
  constraint cron_jobs_schedule_check check (btrim(schedule) <> ''),
  constraint cron_jobs_command_check check (btrim(command) <> '')
);

comment on table automation.cron_jobs is
  'The scheduled jobs, one row each: the one source of truth for pg_cron (copied into cron.job by automation.schedule_cron_jobs()) and for the worker''s fallback scheduler. Schedules are cron expressions in UTC; Moscow is UTC+3 all year. After changing a row, run select automation.schedule_cron_jobs() where pg_cron is installed; to stop a job set enabled = false (deleting the row leaves its pg_cron job in place).';
comment on column automation.cron_jobs.name is 'Job name (kebab-case); the pg_cron job name.';
comment on column automation.cron_jobs.schedule is
  'Five-field cron expression evaluated in UTC (03:00 Moscow = 0 0 * * *).';
comment on column automation.cron_jobs.command is 'The SQL the job runs, e.g. select public.update_appointment_statuses().';
comment on column automation.cron_jobs.description is 'What the job does and when, in Moscow time.';
comment on column automation.cron_jobs.enabled is 'False: not scheduled (unscheduled from pg_cron; skipped by the worker).';

insert into automation.cron_jobs (name, schedule, command, description) values
  ('update-appointment-statuses', '*/5 * * * *',
   'select public.update_appointment_statuses()',
   'Every 5 minutes: scheduled appointments become in_progress at starts_at and completed at ends_at; cancelled ones are left alone.'),
  ('send-appointment-reminders', '0 * * * *',
   'select public.send_appointment_reminders()',
   'Every hour at minute 0 (UTC and Moscow alike): queues the 24-hour and 1-hour appointment reminder emails, each exactly once.'),
  ('cleanup-old-assessments', '0 0 * * *',
   'select public.cleanup_old_assessments()',
   'Daily at 03:00 Moscow (00:00 UTC): in-progress checkups with no activity for 30 days become abandoned.'),
  ('purge-queue-archives', '0 1 * * *',
   'select automation.purge_queue_archives()',
   'Daily at 04:00 Moscow (01:00 UTC): deletes archived queue messages older than the archive_retention setting (default 14 days).'),
  ('purge-cron-history', '30 1 * * *',
   'select automation.purge_cron_history()',
   'Daily at 04:30 Moscow (01:30 UTC): deletes job run history older than the cron_history_retention setting (default 14 days).');

alter table automation.cron_jobs enable row level security;
-- No policy: only the owner and service_role (bypassrls) read it; nobody else has a grant.
revoke all on table automation.cron_jobs from public, anon, authenticated;
grant select on table automation.cron_jobs to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.job_run_details: runs made by the worker's fallback scheduler
-- ---------------------------------------------------------------------------------------------

create table automation.job_run_details (
  runid bigserial primary key,
  job_name text not null,
  status text not null default 'running',
  return_message text,
  start_time timestamptz not null default now(),
  end_time timestamptz,
  constraint job_run_details_status_check check (status in ('running', 'succeeded', 'failed')),
  constraint job_run_details_end_time_check check ((status = 'running') = (end_time is null))
);

comment on table automation.job_run_details is
  'One row per job run made by the worker''s fallback scheduler (where pg_cron is absent); the same shape as cron.job_run_details. Purged by purge-cron-history.';
comment on column automation.job_run_details.job_name is 'automation.cron_jobs.name (kept after a definition is removed).';
comment on column automation.job_run_details.status is 'running -> succeeded or failed (end_time set with it).';
comment on column automation.job_run_details.return_message is
  'The command''s result (e.g. the function''s jsonb summary) or the error message.';

-- The console's "last runs of a job", and the purge by age.
create index job_run_details_job_name_start_time_idx on automation.job_run_details (job_name, start_time desc);
create index job_run_details_start_time_idx on automation.job_run_details (start_time);

alter table automation.job_run_details enable row level security;
-- No policy: only the owner and service_role (bypassrls) use it; nobody else has a grant.
revoke all on table automation.job_run_details from public, anon, authenticated;
grant select, insert, update on table automation.job_run_details to service_role;
revoke all on sequence automation.job_run_details_runid_seq from public, anon, authenticated;
grant usage on sequence automation.job_run_details_runid_seq to service_role;

-- ---------------------------------------------------------------------------------------------
-- public.update_appointment_statuses: scheduled -> in_progress -> completed
-- ---------------------------------------------------------------------------------------------

create function public.update_appointment_statuses(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  started integer;
  completed integer;
begin
  -- One statement. The two arms of the `or` match the two partial indexes of 001
  -- (appointments_scheduled_starts_at_idx, appointments_in_progress_ends_at_idx): a bitmap-or over
  -- the few rows still scheduled or running, never the completed history.
  --   scheduled,   starts_at <= now < ends_at  -> in_progress
  --   scheduled,   ends_at <= now              -> completed (the job missed the whole appointment)
  --   in_progress, ends_at <= now              -> completed
  -- Boundaries: an appointment starts at starts_at and is over at ends_at. Cancelled and completed
  -- appointments never match. Concurrency is the update's own row locks: a row another transaction
  -- is changing (a user cancelling, a concurrent run) is waited for, then the whole `where` is
  -- re-checked on the committed row (READ COMMITTED), so a cancellation is never overwritten and a
  -- transition never made twice.
  with moved as (
    update public.appointments as a
    set status = case when a.ends_at <= p_now then 'completed' else 'in_progress' end
    where (a.status = 'scheduled' and a.starts_at <= p_now)
       or (a.status = 'in_progress' and a.ends_at <= p_now)
    returning a.status
  )
  select count(*) filter (where moved.status = 'in_progress'),
         count(*) filter (where moved.status = 'completed')
  into started, completed
  from moved;

  return pg_catalog.jsonb_build_object('in_progress', started, 'completed', completed);
end;
$$;

comment on function public.update_appointment_statuses(timestamptz) is
  'Cron job update-appointment-statuses (every 5 minutes; pg_cron or the worker''s scheduler as service_role): moves scheduled appointments to in_progress at starts_at and scheduled/in_progress ones to completed at ends_at, in one statement. p_now is for tests. Returns {"in_progress": n, "completed": n}, the rows moved to each.';

revoke execute on function public.update_appointment_statuses(timestamptz) from public, anon, authenticated;
grant execute on function public.update_appointment_statuses(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- public.send_appointment_reminders: the 24-hour and 1-hour reminder emails, each exactly once
-- ---------------------------------------------------------------------------------------------

create function public.send_appointment_reminders(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  marked_24h integer;
  sent_24h integer;
  marked_1h integer;
  sent_1h integer;
  undeliverable integer;
begin
  -- Exactly once: one statement per reminder marks the due rows (reminder_*_sent_at) and queues their
  -- emails, so both commit together or neither does. A repeated run finds the mark; a late run (hours
  -- skipped) still finds every unmarked appointment whose window it is in; a concurrent run waits for
  -- the row locks of this one's update and then re-checks its `where` on the committed rows (READ
  -- COMMITTED), where `reminder_*_sent_at is null` no longer holds. (Runs seldom overlap: pg_cron
  -- never starts a job while its previous run is going, and the worker's scheduler holds an advisory
  -- lock per job; this covers a run by hand.)
  --
  -- Windows (hourly runs): 24 h reminder while starts_at is in (now + 1 h, now + 24 h], 1 h reminder
  -- while it is in (now, now + 1 h]. They do not overlap, so one run never sends both; a 24 h reminder
  -- whose window closed unsent (runs skipped for a day) is not sent late: the 1 h one follows.
  -- Only scheduled appointments: never cancelled ones, never ones that started.
  --
  -- Same-day bookings: no 24 h reminder unless the appointment was booked more than 24 h before it
  -- starts; a reminder an hour after booking would repeat the booking confirmation (032). The 1 h
  -- reminder has no such rule: it carries the meeting link at the moment it is needed.
  --
  -- Messages follow emailMessageSchema (packages/queues/src/catalog.ts): the worker renders dates in the
  -- profile's time zone and language. All of a run's messages go in one pgmq.send_batch (one insert,
  -- one wake-up notification); `having count(*) > 0` skips the call when nothing is due. They are
  -- built here rather than by public.queue_email_task (031) to send them in one insert instead of
  -- one call per row. An address the email queue refuses (public.is_email_address, 031) is marked
  -- handled but not queued, as the confirmation trigger of 032 does, and counted as undeliverable.
  with marked as (
    update public.appointments as a
    set reminder_24h_sent_at = p_now
    where a.status = 'scheduled'
      and a.starts_at > p_now + interval '1 hour'
      and a.starts_at <= p_now + interval '24 hours'
      and a.reminder_24h_sent_at is null
      and a.created_at < a.starts_at - interval '24 hours'
    returning a.id, a.user_id, a.starts_at, a.ends_at, a.specialist_name, a.meeting_url
  ),
  sent as (
    select pgmq.send_batch(
      'email_queue',
      pg_catalog.array_agg(
        pg_catalog.jsonb_build_object(
          'version', 1,
          'idempotency_key', 'appointment_reminder_24h:' || m.id::text,
          'to', p.email,
          'template', 'appointment_reminder_24h',
          'locale', p.locale,
          'timezone', p.timezone,
          'priority', 0,
          'user_id', m.user_id,
          'variables', pg_catalog.jsonb_build_object(
            'appointment_id', m.id,
            'starts_at', m.starts_at,
            'ends_at', m.ends_at,
            'consultant_name', m.specialist_name,
            'meeting_url', m.meeting_url,
            'user_name', p.full_name
          )
        )
        order by m.starts_at, m.id
      )
    ) as msg_id
    from marked as m
    join public.profiles as p on p.id = m.user_id
    where public.is_email_address(p.email)
    having count(*) > 0
  )
  select (select count(*) from marked), (select count(*) from sent) into marked_24h, sent_24h;

  with marked as (
    update public.appointments as a
    set reminder_1h_sent_at = p_now
    where a.status = 'scheduled'
      and a.starts_at > p_now
      and a.starts_at <= p_now + interval '1 hour'
      and a.reminder_1h_sent_at is null
    returning a.id, a.user_id, a.starts_at, a.ends_at, a.specialist_name, a.meeting_url
  ),
  sent as (
    select pgmq.send_batch(
      'email_queue',
      pg_catalog.array_agg(
        pg_catalog.jsonb_build_object(
          'version', 1,
          'idempotency_key', 'appointment_reminder_1h:' || m.id::text,
          'to', p.email,
          'template', 'appointment_reminder_1h',
          'locale', p.locale,
          'timezone', p.timezone,
          'priority', 1,
          'user_id', m.user_id,
          'variables', pg_catalog.jsonb_build_object(
            'appointment_id', m.id,
            'starts_at', m.starts_at,
            'ends_at', m.ends_at,
            'consultant_name', m.specialist_name,
            'meeting_url', m.meeting_url,
            'user_name', p.full_name
          )
        )
        order by m.starts_at, m.id
      )
    ) as msg_id
    from marked as m
    join public.profiles as p on p.id = m.user_id
    where public.is_email_address(p.email)
    having count(*) > 0
  )
  select (select count(*) from marked), (select count(*) from sent) into marked_1h, sent_1h;

  undeliverable := (marked_24h - sent_24h) + (marked_1h - sent_1h);
  if undeliverable > 0 then
    raise warning 'send_appointment_reminders: % reminder(s) not queued: the user''s address is one the email queue refuses',
      undeliverable;
  end if;

  return pg_catalog.jsonb_build_object(
    'reminder_24h', sent_24h,
    'reminder_1h', sent_1h,
    'undeliverable', undeliverable
  );
end;
$$;

comment on function public.send_appointment_reminders(timestamptz) is
  'Cron job send-appointment-reminders (hourly; pg_cron or the worker''s scheduler as service_role): queues appointment_reminder_24h (starts in 1-24 h, booked more than 24 h ahead) and appointment_reminder_1h (starts within the hour, priority 1) emails to email_queue, each exactly once per appointment (reminder_*_sent_at set in the same statement; an address the queue refuses is skipped with a warning). p_now is for tests. Returns {"reminder_24h": n, "reminder_1h": n, "undeliverable": n}.';

revoke execute on function public.send_appointment_reminders(timestamptz) from public, anon, authenticated;
grant execute on function public.send_appointment_reminders(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- public.cleanup_old_assessments: in-progress checkups idle for 30 days become abandoned
-- ---------------------------------------------------------------------------------------------

create function public.cleanup_old_assessments(p_now timestamptz default now())
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  abandoned integer;
begin
  -- Last activity is the later of created_at and updated_at (public.set_updated_at bumps updated_at
  -- on every saved answer). The seeds used created_at alone, which would abandon a checkup its user
  -- is still filling in on day 31. Writing "the later of the two is older than 30 days" as two
  -- conditions lets the partial index assessments_in_progress_created_at_idx find the candidates:
  -- in-progress checkups created over 30 days ago, a set the job keeps small.
  -- A plain update (no skip locked): a row a user is saving is waited for, and then re-checked with
  -- its new updated_at, so it stays in progress.
  update public.assessments as a
  set status = 'abandoned',
      abandoned_at = p_now
  where a.status = 'in_progress'
    and a.created_at < p_now - interval '30 days'
    and a.updated_at < p_now - interval '30 days';
  get diagnostics abandoned = row_count;
  return abandoned;
end;
$$;

comment on function public.cleanup_old_assessments(timestamptz) is
  'Cron job cleanup-old-assessments (daily at 03:00 Moscow; pg_cron or the worker''s scheduler as service_role): marks in-progress checkups with no activity (created_at and updated_at) for 30 days as abandoned. Completed ones are never touched. p_now is for tests. Returns the number of checkups abandoned.';

revoke execute on function public.cleanup_old_assessments(timestamptz) from public, anon, authenticated;
grant execute on function public.cleanup_old_assessments(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.purge_queue_archives: archived queue messages past their retention
-- ---------------------------------------------------------------------------------------------

create function automation.purge_queue_archives(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  retention interval;
  queue record;
  deleted integer;
  summary jsonb := '{}';
begin
  select s.value::interval into retention from automation.settings as s where s.key = 'archive_retention';
  retention := coalesce(retention, interval '14 days');

  -- No pgmq (yet): nothing to purge.
  if pg_catalog.to_regclass('pgmq.meta') is null then
    return summary;
  end if;

  -- Every queue, dead-letter queues included. One delete per archive on its archived_at index.
  for queue in select m.queue_name from pgmq.meta as m order by m.queue_name loop
    if pg_catalog.to_regclass(pg_catalog.format('pgmq.%I', 'a_' || queue.queue_name)) is null then
      continue;
    end if;
    execute pg_catalog.format('delete from pgmq.%I where archived_at < $1', 'a_' || queue.queue_name)
      using p_now - retention;
    get diagnostics deleted = row_count;
    summary := summary || pg_catalog.jsonb_build_object(queue.queue_name, deleted);
  end loop;
  return summary;
end;
$$;

comment on function automation.purge_queue_archives(timestamptz) is
  'Cron job purge-queue-archives (daily at 04:00 Moscow; pg_cron or the worker''s scheduler as service_role): deletes messages archived longer ago than automation.settings archive_retention (default 14 days) from every pgmq.a_<queue>. p_now is for tests. Returns {"<queue>": rows deleted, ...}.';

revoke execute on function automation.purge_queue_archives(timestamptz) from public, anon, authenticated;
grant execute on function automation.purge_queue_archives(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.purge_cron_history: job run history past its retention
-- ---------------------------------------------------------------------------------------------

create function automation.purge_cron_history(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  retention interval;
  cutoff timestamptz;
  deleted_cron integer;
  deleted_local integer;
begin
  select s.value::interval into retention from automation.settings as s where s.key = 'cron_history_retention';
  cutoff := p_now - coalesce(retention, interval '14 days');

  -- pg_cron's own history exists only in the database pg_cron lives in. A run still going (no
  -- end_time) is judged by its start. pg_cron's row security limits a role that is not a superuser
  -- (postgres on Supabase) to the runs of its own jobs: the ones this file scheduled.
  if pg_catalog.to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where coalesce(end_time, start_time) < $1' using cutoff;
    get diagnostics deleted_cron = row_count;
  end if;

  delete from automation.job_run_details as r where r.start_time < cutoff;
  get diagnostics deleted_local = row_count;

  return pg_catalog.jsonb_build_object(
    'cron.job_run_details', deleted_cron,
    'automation.job_run_details', deleted_local
  );
end;
$$;

comment on function automation.purge_cron_history(timestamptz) is
  'Cron job purge-cron-history (daily at 04:30 Moscow; pg_cron or the worker''s scheduler as service_role): deletes run history older than automation.settings cron_history_retention (default 14 days) from cron.job_run_details (where pg_cron is installed) and automation.job_run_details. p_now is for tests. Returns the rows deleted from each (null: no pg_cron here).';

revoke execute on function automation.purge_cron_history(timestamptz) from public, anon, authenticated;
grant execute on function automation.purge_cron_history(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- automation.schedule_cron_jobs: automation.cron_jobs -> cron.job
-- ---------------------------------------------------------------------------------------------

create function automation.schedule_cron_jobs()
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  job record;
  cron_jobid bigint;
  scheduled text[] := '{}';
  unscheduled text[] := '{}';
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not installed in database %: the worker''s scheduler runs the jobs in automation.cron_jobs',
      pg_catalog.current_database();
    return pg_catalog.jsonb_build_object('pg_cron', false);
  end if;

  -- cron.* is referenced only past this point, so the function also exists where pg_cron does not.
  -- cron.schedule(name, ...) updates the job of that name and user when there is one (pg_cron 1.4+):
  -- running this twice changes nothing. Jobs belong to the calling role and run as it.
  for job in select j.name, j.schedule, j.command, j.enabled from automation.cron_jobs as j order by j.name loop
    if job.enabled then
      perform cron.schedule(job.name, job.schedule, job.command);
      scheduled := scheduled || job.name;
    else
      select c.jobid into cron_jobid
      from cron.job as c
      where c.jobname = job.name and c.username = current_user;
      if found then
        perform cron.unschedule(cron_jobid);
        unscheduled := unscheduled || job.name;
      end if;
    end if;
  end loop;

  return pg_catalog.jsonb_build_object(
    'pg_cron', true,
    'scheduled', pg_catalog.to_jsonb(scheduled),
    'unscheduled', pg_catalog.to_jsonb(unscheduled)
  );
end;
$$;

comment on function automation.schedule_cron_jobs() is
  'Run by this migration and by an operator (as the migration role) after editing automation.cron_jobs: where pg_cron is installed in this database, schedules every enabled job (upsert by name) and unschedules disabled ones; elsewhere only raises a notice. Returns {"pg_cron": bool, "scheduled": [...], "unscheduled": [...]}.';

revoke execute on function automation.schedule_cron_jobs() from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- pg_cron, where this database can have it
-- ---------------------------------------------------------------------------------------------

do $$
declare
  cron_database text := nullif(pg_catalog.current_setting('cron.database_name', true), '');
  installed boolean := false;
begin
  if not exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
    raise notice 'pg_cron is not available on this server: the worker''s scheduler runs the jobs in automation.cron_jobs';
    return;
  end if;

  -- pg_cron lives in one database per cluster (cron.database_name). Locally that is `postgres` and
  -- test databases are clones elsewhere; on Supabase migrations run in `postgres` itself.
  if cron_database is not null and cron_database <> pg_catalog.current_database() then
    raise notice 'pg_cron lives in database %, not %: the worker''s scheduler runs the jobs in automation.cron_jobs',
      cron_database, pg_catalog.current_database();
    return;
  end if;

  -- Creating it can still fail (not in shared_preload_libraries, no privilege): that is no reason to
  -- fail the migration. The block's savepoint undoes the attempt.
  begin
    create extension if not exists pg_cron;
    installed := true;
  exception
    when others then
      raise notice 'pg_cron could not be created in database % (%): the worker''s scheduler runs the jobs in automation.cron_jobs',
        pg_catalog.current_database(), sqlerrm;
  end;

  -- Outside the exception block: with pg_cron in place, a job that cannot be scheduled fails the
  -- migration instead of leaving the job silently unscheduled.
  if installed then
    perform automation.schedule_cron_jobs();
  end if;
end;
$$;
