-- Supabase platform objects for a plain PostgreSQL: LOCAL USE ONLY (devstack, tests).
--
-- Supabase Cloud (and self-hosted Supabase) already has every object below, created by
-- supabase/postgres (init scripts) and supabase/auth (GoTrue migrations). This file recreates
-- the part our migrations and tests rely on, with the same names, attributes and grants, so
-- that `supabase/migrations/*.sql` run unchanged on a bare cluster. It is never a migration.
--
-- Idempotent: run it as a superuser in any number of databases of one cluster, any number of
-- times. Roles are cluster-wide, so they are created only when missing; everything else is
-- per database. No passwords: no role here can log in.
--
-- Contents:
--   roles      anon, authenticated, service_role (bypassrls), authenticator, supabase_auth_admin
--   extensions schema `extensions` with pgcrypto and uuid-ossp (where the server ships them)
--   auth       schema `auth`, a minimal `auth.users`, auth.uid() / role() / email() / jwt()
--   grants     usage on public/auth/extensions; default privileges in public as Supabase grants

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-wide)
-- ---------------------------------------------------------------------------------------------

-- Each role is created only when missing. Two databases being prepared at once can still race
-- between the check and the create; the loser's duplicate error is swallowed (the winner made
-- the same role).
do $$
declare
  spec record;
begin
  for spec in
    select *
    from (
      values
        -- The three API roles PostgREST switches to from the JWT `role` claim.
        ('anon', 'nologin noinherit'),
        ('authenticated', 'nologin noinherit'),
        ('service_role', 'nologin noinherit bypassrls'),
        -- PostgREST connects as `authenticator` and `set role`s to one of the three. Supabase
        -- gives it a password; locally nobody logs in as it, so it has none and cannot log in.
        ('authenticator', 'nologin noinherit'),
        -- GoTrue's role: owns the auth schema and inserts into auth.users on sign-up. Tests use
        -- it to prove that triggers on auth.users work without owning the public tables.
        ('supabase_auth_admin', 'nologin noinherit')
    ) as roles (name, attributes)
  loop
    if not exists (select from pg_catalog.pg_roles where rolname = spec.name) then
      begin
        execute pg_catalog.format('create role %I %s', spec.name, spec.attributes);
      exception
        when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end
$$;

do $$
declare
  api_role text;
begin
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (
      select
      from pg_catalog.pg_auth_members m
      where m.roleid = (select oid from pg_catalog.pg_roles where rolname = api_role)
        and m.member = (select oid from pg_catalog.pg_roles where rolname = 'authenticator')
    ) then
      begin
        execute pg_catalog.format('grant %I to authenticator', api_role);
      exception
        when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Extensions (per database)
-- ---------------------------------------------------------------------------------------------

create schema if not exists extensions;

do $$
begin
  -- Supabase installs both into `extensions`. gen_random_uuid() is built into PostgreSQL 13+, so
  -- our migrations need neither; they are here for SQL copied from Supabase examples.
  if exists (select from pg_catalog.pg_available_extensions where name = 'pgcrypto') then
    create extension if not exists pgcrypto with schema extensions;
  end if;
  if exists (select from pg_catalog.pg_available_extensions where name = 'uuid-ossp') then
    create extension if not exists "uuid-ossp" with schema extensions;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- auth schema (per database): the subset of GoTrue's schema our SQL touches
-- ---------------------------------------------------------------------------------------------

create schema if not exists auth;
alter schema auth owner to supabase_auth_admin;

-- Column names and types follow GoTrue's auth.users; only what supabase/seed.sql and the triggers use is here.
-- The token/email_change columns exist because seed rows set them to '' (GoTrue cannot read NULL
-- from them on a real Supabase).
create table if not exists auth.users (
  instance_id uuid,
  id uuid not null default gen_random_uuid() primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  confirmation_token varchar(255),
  recovery_token varchar(255),
  email_change_token_new varchar(255),
  email_change varchar(255),
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_anonymous boolean not null default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  deleted_at timestamptz
);
alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
comment on table auth.users is 'Auth: Stores user login data within a secure schema. (devstack stand-in for GoTrue''s table)';

-- The request helpers, defined as supabase/auth defines them: PostgREST puts the verified JWT in
-- `request.jwt.claims` (json); PostgREST < 9 set one `request.jwt.claim.<name>` per claim, which
-- is still read first. An empty setting counts as absent.
create or replace function auth.uid()
returns uuid
language sql
stable
set search_path = ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role()
returns text
language sql
stable
set search_path = ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email()
returns text
language sql
stable
set search_path = ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';
comment on function auth.jwt() is 'The claims of the request''s JWT, as PostgREST set them.';

-- ---------------------------------------------------------------------------------------------
-- Grants, as Supabase makes them
-- ---------------------------------------------------------------------------------------------

grant usage on schema public to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant all on schema auth to supabase_auth_admin;

-- Everything the migrating role (the superuser running this file and the migrations) creates in
-- public is granted to the API roles; row level security is what restricts them. Migrations
-- narrow these grants table by table.
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
