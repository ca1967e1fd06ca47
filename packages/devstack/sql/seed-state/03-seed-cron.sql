-- pg_cron as the seed-era 030 left it (TEST FIXTURE): `create extension pg_cron` in the SQL editor
-- puts it in the current schema, public; the seed-era three jobs by name; and a job of the team's own
-- with its run history. Only where the server has pg_cron, in its one database.

drop extension if exists pg_cron;
create extension pg_cron schema public;

select cron.schedule('update-appointment-statuses', '*/5 * * * *', $$ SELECT public.update_appointment_statuses(); $$);
select cron.schedule('cleanup-old-assessments', '0 3 * * *', $$
  UPDATE public.assessments
  SET status = 'abandoned'
  WHERE status = 'in_progress'
    AND created_at < now() - interval '30 days';
  $$);
select cron.schedule('send-appointment-reminders', '0 * * * *', $$ SELECT public.send_appointment_reminders(); $$);

-- The team's own job, and what it has run so far (5, 20 and 45 days ago: older than our
-- purge-cron-history's retention, which must not touch it).
select cron.schedule('refresh-specialist-stats', '15 * * * *',
  $$ update public.specialists set stats_refreshed_at = now() $$);

insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
select j.jobid, 900000 + g, 4000 + g, current_database(), current_user, j.command, 'succeeded', 'UPDATE 2',
       now() - make_interval(days => g * g * 5), now() - make_interval(days => g * g * 5) + interval '40 milliseconds'
from cron.job j, generate_series(1, 3) g
where j.jobname = 'refresh-specialist-stats';
