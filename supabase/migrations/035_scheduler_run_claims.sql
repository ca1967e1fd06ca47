-- The worker's fallback scheduler may run in many workers at once. Each tick of a job is claimed by
-- inserting its (job_name, scheduled_for) row: the unique index lets exactly one worker win, so a job
-- runs once per tick however many workers there are. `command` records what ran, as cron.job_run_details does.
alter table automation.job_run_details
  add column if not exists scheduled_for timestamptz,
  add column if not exists command text;

comment on column automation.job_run_details.scheduled_for is
  'The tick this run belongs to (UTC, whole minute); unique per job so only one worker runs it.';
comment on column automation.job_run_details.command is 'The SQL the run executed.';

create unique index if not exists job_run_details_job_tick_key
  on automation.job_run_details (job_name, scheduled_for);

grant insert, update on automation.job_run_details to service_role;
grant usage, select on sequence automation.job_run_details_runid_seq to service_role;
