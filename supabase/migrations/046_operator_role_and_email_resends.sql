-- 046_operator_role_and_email_resends.sql: two changes the operator sees.
--
-- 1. The delivery log counts resends. An email whose claim expired with no result (status still
--    `sending`: the worker died, or lost the database, between the SMTP server's "250" and its
--    record) is sent again by the next claim, with the same Message-ID (derived from the
--    idempotency key), and `resends` counts it. The console's email log shows the column.
--
-- 2. Operators get a database role of their own. `operator` (nologin, granted to authenticator, so
--    PostgREST can switch to it) is what an operator's JWT names in its `role` claim: on Supabase the
--    Custom Access Token Hook below sets it for users whose app_metadata.role is 'operator' (enable
--    the hook in the dashboard: apps/console/README.md); locally the devstack's token signer runs the
--    same hook. The console_* functions are executable by operator and service_role only, not by
--    every signed-in user, so Supabase's advisor (lint authenticated_security_definer_function_executable)
--    no longer lists them; automation.require_operator() (via is_operator()) still checks inside.
--
--    request_assessment_report stays security definer, executable by authenticated: it reads
--    pgmq.q_report_generation_queue (to answer a repeated request with the waiting job), writes
--    automation.report_requests (the per-user limit, which a user must not be able to edit) and
--    calls queue_report_generation (service_role only). As security invoker every user would need
--    those grants on the queue, the one thing the design forbids (lint insecure_queue_exposed_in_api).
--    It checks auth.uid() against the checkup's owner itself. That is the one advisor WARN left
--    (docs/deploy-supabase-cloud.md, "Database advisors").
--
-- Runs on Supabase Cloud (postgres has CREATEROLE there) and on local PostgreSQL, in one transaction.

-- ---------------------------------------------------------------------------------------------
-- 1. Resends in the delivery log
-- ---------------------------------------------------------------------------------------------

alter table automation.email_deliveries
  add column if not exists resends integer not null default 0 check (resends >= 0);

comment on column automation.email_deliveries.resends is
  'How many times the worker sent this email again after an attempt that ended with no result (claim expired in status sending: a crash or a lost database between SMTP and the record). Each resend carries the same Message-ID as the first copy.';

-- The console shows resends and the Message-ID: the result type changes, so drop and create.
drop function public.console_email_deliveries(text, integer);

create function public.console_email_deliveries(search text default null, max_count integer default 100)
returns table (
  idempotency_key text,
  msg_id bigint,
  template text,
  recipient text,
  status text,
  attempts integer,
  resends integer,
  smtp_message_id text,
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
  -- search: part of the recipient's address (case-insensitive), a template or a status.
  return query
  select d.idempotency_key, d.msg_id, d.template, automation.mask_text(d.recipient), d.status, d.attempts,
         d.resends, d.smtp_message_id, automation.mask_text(d.error), d.created_at, d.updated_at, d.sent_at
  from automation.email_deliveries as d
  where pattern is null
     or pg_catalog.strpos(pg_catalog.lower(d.recipient), pg_catalog.lower(pattern)) > 0
     or d.template = pattern
     or d.status = pattern
  order by d.created_at desc
  limit max_count;
end;
$$;

comment on function public.console_email_deliveries(text, integer) is
  'Operator console (operators, service_role): the newest max_count (1..1000, default 100) rows of the worker''s delivery log (automation.email_deliveries), recipient and error masked, with resends (sent again after an attempt with no result, same Message-ID) and the Message-ID. search: part of the recipient address (case-insensitive), or a template or status name.';

-- ---------------------------------------------------------------------------------------------
-- 2. The operator role
-- ---------------------------------------------------------------------------------------------

-- Roles belong to the cluster: made once, when missing (two databases migrated at once may race;
-- the loser's duplicate error is swallowed).
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'operator') then
    begin
      create role operator nologin noinherit;
    exception
      when duplicate_object or unique_violation then null;
    end;
  end if;
  if not pg_catalog.pg_has_role('authenticator', 'operator', 'member') then
    begin
      grant operator to authenticator;
    exception
      when duplicate_object or unique_violation then null;
    end;
  end if;
end
$$;

comment on role operator is
  'Operators of the Balansity console: the JWT role claim of a user whose app_metadata.role is operator (public.custom_access_token_hook). May execute the console_* functions; nothing else.';

-- What the console needs from the API as an operator: the schema its functions live in. No table
-- grants: the console reads and acts only through the console_* functions.
grant usage on schema public to operator;

-- An operator's JWT says so twice: role operator (which PostgREST switches to, and which grants
-- execute) and app_metadata.role operator (what the hook read). Read from the request's settings,
-- not auth.jwt(): on Supabase a custom role cannot be given usage on schema auth.
create or replace function public.is_operator()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(
    (select
       (claims ->> 'role') = 'operator' and (claims -> 'app_metadata' ->> 'role') = 'operator'
     from (select nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb as claims) as c),
    false
  )
$$;

comment on function public.is_operator() is
  'True when the request''s JWT carries role operator (set by public.custom_access_token_hook) and app_metadata.role = operator (auth.users.raw_app_meta_data, which only the service key or SQL can set). Called by the console after sign-in and, as a second check after the operator role''s grant, by every console_* function (automation.require_operator).';

revoke execute on function public.is_operator() from public, anon;
grant execute on function public.is_operator() to authenticated, operator, service_role;

-- The console functions: operator and service_role, nobody else.
do $$
declare
  fn regprocedure;
begin
  for fn in
    select p.oid::regprocedure
    from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and p.proname like 'console\_%'
  loop
    execute pg_catalog.format('revoke execute on function %s from public, anon, authenticated', fn);
    execute pg_catalog.format('grant execute on function %s to operator, service_role', fn);
  end loop;
end
$$;

-- Supabase Auth calls this before it issues an access token (Authentication → Hooks → Customize
-- Access Token (JWT) Claims → Postgres, function public.custom_access_token_hook). Security invoker:
-- it runs as supabase_auth_admin and reads only the event, whose app_metadata Auth filled from
-- auth.users.raw_app_meta_data (writable with the service key or SQL only, never by the user).
create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  claims jsonb := event -> 'claims';
begin
  if claims is null or pg_catalog.jsonb_typeof(claims) <> 'object' then
    return event;
  end if;
  if (claims -> 'app_metadata' ->> 'role') = 'operator' then
    claims := pg_catalog.jsonb_set(claims, '{role}', '"operator"');
  elsif (claims ->> 'role') = 'operator' then
    -- Never passes a role on to someone who is not (or no longer) an operator.
    claims := pg_catalog.jsonb_set(claims, '{role}', '"authenticated"');
  end if;
  return pg_catalog.jsonb_set(event, '{claims}', claims);
end;
$$;

comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Auth''s Custom Access Token Hook (called by supabase_auth_admin before a token is issued; locally by the devstack''s token signer): sets the role claim to operator for users whose app_metadata.role is operator, to authenticated for anyone else claiming operator; every other claim unchanged.';

revoke execute on function public.custom_access_token_hook(jsonb) from public, anon, authenticated, service_role;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
