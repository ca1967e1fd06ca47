-- 040_reports.sql: checkup reports. Where results come from, the reports table, the private Storage
-- bucket, and a user's request for a new report with a per-user limit.
--
-- Results are the server's. A user answers a checkup (answers); the database scores it when it is
-- completed (public.score_assessment, from the answers, by a before trigger). What a user writes to
-- `results` through the API is discarded: the column grant of 001 stays (revoking it would break
-- clients that send the whole row), but for the API roles (authenticated, anon) the trigger keeps
-- the stored value while a checkup is in progress and replaces it with the computed one on
-- completion. Only server-side roles (service_role, the migrating role, security definer functions)
-- may set results themselves, e.g. a scoring service. The report renderer checks results against
-- the same contract (@balansity/reports) and trusts nothing else.
--
--   object                                   who
--   public.score_assessment(kind, answers)   authenticated, service_role (pure; called by the completion trigger)
--   public.reports                           authenticated: select own rows; service_role: everything (the worker writes)
--   automation.settings report_request_*    the limit on report requests (operators update it)
--   automation.report_requests               every accepted request (the limit counts them)
--   public.request_assessment_report(id)     authenticated (the owner): a new report and a new email, within the limit
--   storage bucket `reports`                 private (no policies for API roles); created where Supabase Storage exists

-- ---------------------------------------------------------------------------------------------
-- Scoring: answers 1..5 per question, three scales per kind, each 0..100 (higher is better)
-- ---------------------------------------------------------------------------------------------

create function public.score_assessment(kind text, answers jsonb)
returns jsonb
language sql
immutable
parallel safe
set search_path = ''
as $$
  with scale_questions (kind, position, scale, questions) as (
    values
      ('wellbeing', 1, 'energy', array['q1', 'q2']),
      ('wellbeing', 2, 'sleep', array['q3', 'q4']),
      ('wellbeing', 3, 'mood', array['q5', 'q6']),
      ('stress', 1, 'calmness', array['q1', 'q2']),
      ('stress', 2, 'resilience', array['q3', 'q4']),
      ('stress', 3, 'recovery', array['q5', 'q6']),
      ('sleep', 1, 'duration', array['q1', 'q2']),
      ('sleep', 2, 'quality', array['q3', 'q4']),
      ('sleep', 3, 'regularity', array['q5', 'q6'])
  ),
  scored as (
    -- A scale is scored from the questions answered with a number 1..5; one with none is left out
    -- (the report then names the missing scale).
    select sq.scale,
           pg_catalog.round((pg_catalog.avg((a.value)::numeric) - 1) * 25)::integer as value
    from scale_questions sq
    cross join lateral pg_catalog.unnest(sq.questions) as q (question)
    join lateral pg_catalog.jsonb_each_text(
      case when pg_catalog.jsonb_typeof(score_assessment.answers) = 'object' then score_assessment.answers else '{}' end
    ) as a (key, value)
      on a.key = q.question and a.value ~ '^[1-5]$'
    where sq.kind = score_assessment.kind
    group by sq.scale, sq.position
  ),
  overall as (
    select pg_catalog.round(pg_catalog.avg(value))::integer as score from scored
  )
  select case
    when (select score from overall) is null then null
    else pg_catalog.jsonb_build_object(
      'score', o.score,
      'level', case when o.score < 40 then 'low' when o.score < 70 then 'moderate' else 'high' end,
      'scales', (select pg_catalog.jsonb_object_agg(s.scale, s.value) from scored s)
    )
  end
  from overall o;
$$;

comment on function public.score_assessment(text, jsonb) is
  'The results of a checkup from its answers (1..5 per question): { score, level, scales: { <scale>: 0..100 } } for kinds wellbeing, stress, sleep; null for another kind or when nothing is answered. Called by the assessments_server_results trigger, as the role completing the checkup (authenticated or service_role); the report contract (@balansity/reports) has the same shape.';

-- The trigger runs as the role completing the checkup; nobody without a session needs it.
revoke execute on function public.score_assessment(text, jsonb) from public, anon;
grant execute on function public.score_assessment(text, jsonb) to authenticated, service_role;

create function public.set_server_results()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon') then
    -- The API roles never decide results: keep what the server stored ...
    new.results := case when tg_op = 'UPDATE' then old.results end;
  end if;
  -- ... and score the answers when the checkup becomes completed (unless a server role set results).
  if new.status = 'completed'
    and (tg_op = 'INSERT' or old.status is distinct from 'completed')
    and (current_user in ('authenticated', 'anon') or new.results is null)
  then
    new.results := public.score_assessment(new.kind, new.answers);
  end if;
  return new;
end;
$$;

comment on function public.set_server_results() is
  'Trigger function assessments_server_results (before insert or update on public.assessments): results written by authenticated/anon are discarded; on completion results are computed by public.score_assessment unless a server role supplied them.';

revoke execute on function public.set_server_results() from public, anon, authenticated, service_role;

create trigger assessments_server_results
  before insert or update on public.assessments
  for each row execute function public.set_server_results();

comment on column public.assessments.results is
  'Computed by the server on completion (public.score_assessment) or written by a server role; never taken from API users. Shape per kind: the report contract in @balansity/reports.';

-- ---------------------------------------------------------------------------------------------
-- reports: one row per stored report
-- ---------------------------------------------------------------------------------------------

create table public.reports (
  id uuid primary key default gen_random_uuid(),
  assessment_id uuid not null references public.assessments (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  storage_path text not null,
  size_bytes integer not null,
  sha256 text not null,
  renderer_version text not null,
  created_at timestamptz not null default now(),
  -- One object per report job: a retried job overwrites its object and updates its row.
  constraint reports_storage_path_key unique (storage_path),
  constraint reports_size_bytes_check check (size_bytes > 0),
  constraint reports_sha256_check check (sha256 ~ '^[0-9a-f]{64}$')
);

comment on table public.reports is
  'Checkup reports (PDF) the worker rendered and stored (Storage bucket reports, or the filesystem in development): where, how big, their sha256 and the renderer version. Owners read their own rows; only the worker (service_role) writes.';
comment on column public.reports.storage_path is
  'Object path inside the reports bucket: <user_id>/<assessment_id>/<report job digest>.pdf.';

create index reports_user_id_created_at_idx on public.reports (user_id, created_at desc);
create index reports_assessment_id_idx on public.reports (assessment_id);

alter table public.reports enable row level security;

revoke all on table public.reports from public, anon, authenticated;
grant select on table public.reports to authenticated;
grant all on table public.reports to service_role;

create policy reports_select_own on public.reports
  for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- The private bucket (only where Supabase Storage is installed; the devstack has none)
-- ---------------------------------------------------------------------------------------------

do $$
begin
  if pg_catalog.to_regclass('storage.buckets') is not null then
    execute $sql$
      insert into storage.buckets (id, name, public)
      values ('reports', 'reports', false)
      on conflict (id) do nothing
    $sql$;
  end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- A user's request for a new report, limited per user
-- ---------------------------------------------------------------------------------------------

create schema if not exists automation;

-- The limit lives with the other tunables (automation.settings, 030): at most
-- report_request_limit requests per report_request_window (rolling), per user.
insert into automation.settings (key, value, description) values
  ('report_request_limit', '3',
   'How many new reports a user may request (request_assessment_report) per report_request_window; 0 turns requests off.'),
  ('report_request_window', '1 day',
   'The rolling window report_request_limit counts requests in.')
on conflict (key) do nothing;

create table automation.report_requests (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  assessment_id uuid not null references public.assessments (id) on delete cascade,
  msg_id bigint not null,
  requested_at timestamptz not null default now()
);

comment on table automation.report_requests is
  'Every report request request_assessment_report accepted (the per-user limit counts them); msg_id is the report job.';

create index report_requests_user_id_requested_at_idx on automation.report_requests (user_id, requested_at desc);

alter table automation.report_requests enable row level security;
-- No policies: only service_role (bypasses RLS) and the owner read or write it; the schema is not exposed.
revoke all on automation.report_requests from public, anon, authenticated;
grant usage on schema automation to service_role;
grant select, insert, update, delete on automation.report_requests to service_role;

create or replace function public.request_assessment_report(assessment_id uuid)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  requester uuid := (select auth.uid());
  owner_id uuid;
  assessment_status text;
  max_requests integer;
  request_window interval;
  recent integer;
  next_allowed_at timestamptz;
  request_id uuid := pg_catalog.gen_random_uuid();
  job_msg_id bigint;
begin
  if requester is null then
    raise exception 'request_assessment_report: the request has no signed-in user'
      using errcode = 'insufficient_privilege';
  end if;

  select a.user_id, a.status
  into owner_id, assessment_status
  from public.assessments a
  where a.id = request_assessment_report.assessment_id
    and a.user_id = requester;

  -- Someone else's checkup and a checkup that does not exist get the same answer, so that the
  -- function cannot be used to probe which ids exist.
  if not found then
    raise exception 'assessment not found'
      using errcode = 'no_data_found';
  end if;
  if assessment_status <> 'completed' then
    raise exception 'request_assessment_report: assessment is not completed (status %); a report is made once it is', assessment_status
      using errcode = 'invalid_parameter_value';
  end if;

  -- The limit is per user across their checkups; the lock makes concurrent requests count in turn.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('report_request:' || requester::text, 0));
  select coalesce((select s.value::integer from automation.settings s where s.key = 'report_request_limit'), 3),
         coalesce((select s.value::interval from automation.settings s where s.key = 'report_request_window'), interval '1 day')
  into max_requests, request_window;
  select pg_catalog.count(*)::integer, pg_catalog.min(r.requested_at) + request_window
  into recent, next_allowed_at
  from (
    select r.requested_at
    from automation.report_requests r
    where r.user_id = requester
      and r.requested_at > pg_catalog.now() - request_window
    order by r.requested_at desc
    limit greatest(max_requests, 1)
  ) r;
  if recent >= max_requests then
    -- PT429: PostgREST answers HTTP 429.
    raise exception 'request_assessment_report: at most % report requests per %; the next one is possible after %',
      max_requests, request_window, coalesce(next_allowed_at, pg_catalog.now() + request_window)
      using errcode = 'PT429',
            hint = 'The report already sent by email stays valid; ask again later.';
  end if;

  -- A new job key per request: a new report and a new report_ready email (keyed by the job).
  job_msg_id := public.queue_report_generation(
    assessment_id => request_assessment_report.assessment_id,
    user_id => owner_id,
    report_type => 'pdf',
    idempotency_key => 'report_requested:' || request_id::text,
    requested_by => 'user'
  );
  insert into automation.report_requests (id, user_id, assessment_id, msg_id)
  values (request_id, owner_id, request_assessment_report.assessment_id, job_msg_id);
  return job_msg_id;
end;
$$;

comment on function public.request_assessment_report(uuid) is
  'authenticated (the browser, through supabase-js): queues a new PDF report of the caller''s own completed checkup (a new report and a new report_ready email); returns the job''s msg_id. "assessment not found" (P0002) for a checkup that does not exist or is not the caller''s, 22023 while it is not completed, PT429 (HTTP 429) past the per-user limit (automation.settings report_request_limit per report_request_window).';

revoke execute on function public.request_assessment_report(uuid) from public, anon, service_role;
grant execute on function public.request_assessment_report(uuid) to authenticated;
