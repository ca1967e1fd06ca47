-- A stand-in for Supabase's pg_net extension: LOCAL TESTS ONLY, opt-in (installPgNetStandIn in
-- src/pg-net-stand-in.ts). Never installed by the devstack's database preparation, never a migration.
--
-- pg_net is a C extension (a background worker sending HTTP with libcurl) that a plain PostgreSQL
-- does not have. This file gives a test database the one function our migrations call, with the
-- same name, argument names, types and defaults as pg_net's:
--
--   net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer)
--     returns bigint (the request id)
--
-- It records the request in net.http_request_queue; a dispatcher in the test process
-- (startPgNetDispatcher) takes committed rows, sends them over real HTTP and writes the outcome to
-- net._http_response, as pg_net's worker does asynchronously after the caller commits.
--
-- It is a schema and a function, not an extension: pg_extension has no pg_net row. Code that wants
-- to work with both looks for the function (to_regprocedure), not for the extension.

create schema if not exists net;

create table if not exists net.http_request_queue (
  id bigint generated always as identity primary key,
  method text not null,
  url text not null,
  headers jsonb not null,
  body jsonb,
  timeout_milliseconds integer not null,
  created_at timestamptz not null default now()
);

create table if not exists net._http_response (
  id bigint primary key,
  status_code integer,
  error_msg text,
  created timestamptz not null default now()
);

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if body is null then
    raise exception 'net.http_post (stand-in): body must not be null';
  end if;
  -- Query parameters are not encoded here: refused rather than silently dropped.
  if coalesce(params, '{}'::jsonb) <> '{}'::jsonb then
    raise exception 'net.http_post (stand-in): params are not supported, put them in the url';
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', url, coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into v_id;
  return v_id;
end;
$$;
