-- 044_adopt_own_cron_history.sql: purge-cron-history deletes the run history of our jobs only.
--
-- 030's automation.purge_cron_history deleted every row of cron.job_run_details past the retention,
-- whoever's job it was. On a database that had pg_cron before the automation came (Balansity's
-- live project: a team's own jobs, docs/adopt-existing-database.md), that is history that is not
-- ours. Now only runs of jobs named in automation.cron_jobs are purged; pg_cron's own
-- cron.job_run_details of other jobs is left to whoever scheduled them. The worker's scheduler
-- history (automation.job_run_details) holds only our jobs and is purged as before.

create or replace function automation.purge_cron_history(p_now timestamptz default now())
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
  -- end_time) is judged by its start. Only runs of the jobs automation.cron_jobs defines.
  if pg_catalog.to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details as r
             where coalesce(r.end_time, r.start_time) < $1
               and r.jobid in (select j.jobid from cron.job as j
                               join automation.cron_jobs as d on d.name = j.jobname)'
      using cutoff;
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
  'Cron job purge-cron-history (daily at 04:30 Moscow; pg_cron or the worker''s scheduler as service_role): deletes run history older than automation.settings cron_history_retention (default 14 days) of the jobs in automation.cron_jobs, from cron.job_run_details (where pg_cron is installed; other jobs'' history is kept) and automation.job_run_details. p_now is for tests. Returns the rows deleted from each (null: no pg_cron here).';

revoke execute on function automation.purge_cron_history(timestamptz) from public, anon, authenticated;
grant execute on function automation.purge_cron_history(timestamptz) to service_role;
