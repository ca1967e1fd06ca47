-- 001_base_schema.sql: the domain tables (profiles, checkups, consultations, payments).
--
-- Runs unchanged on Supabase Cloud (PostgreSQL 15 and 17) and on local PostgreSQL prepared with
-- packages/devstack/sql/supabase-platform.sql; inside one transaction (no concurrent indexes).
--
-- Statuses are text + named check constraints, not enums: a later migration extends a status by
-- dropping and re-adding one constraint (`<table>_status_check`), inside a transaction.
--
-- Who may do what (row level security is on for every table; `anon` has no grants at all):
--
--   table        authenticated (own rows only)                                service_role
--   profiles     select; update full_name, locale, timezone                   everything
--   assessments  select; insert (status in_progress); update title, answers,  everything
--                results, status while the checkup is still in_progress
--   appointments select; insert a future, scheduled, unpaid booking;          everything
--                update status from scheduled to cancelled (nothing else)
--   payments     select                                                       everything
--
-- Nobody but service_role deletes. Column grants narrow what `authenticated` may write (so a user
-- cannot mark their own appointment paid or rewrite their profile email); policies decide which
-- rows. Profiles are created by a trigger on auth.users, never by users.
--
-- Deleting an auth user deletes their profile, checkups and appointments; their payments are kept
-- for accounting with user_id set to null.

-- ---------------------------------------------------------------------------------------------
-- Helper functions
-- ---------------------------------------------------------------------------------------------

create function public.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function public.set_updated_at() is
  'Trigger function (before update, every table with updated_at): sets updated_at to the transaction time.';

create function public.is_valid_timezone(zone text)
returns boolean
language plpgsql
immutable
strict
parallel safe
set search_path = ''
as $$
begin
  -- Only IANA names: `Area/Location[/More]`, `UTC`, `Etc/UTC`, `Etc/GMT±N`. The shape check keeps
  -- out what PostgreSQL would also accept but is not a place: abbreviations (`MSK`), POSIX rules
  -- (`Europe/Moscow+3`, `EST5EDT`), lower-case spellings. Backward-compatibility links without a
  -- slash (`Japan`) are refused too: browsers report canonical names.
  if zone !~ '^(UTC|Etc/(UTC|GMT([+-]([0-9]|1[0-4]))?)|[A-Z][A-Za-z_-]*(/[A-Z][A-Za-z_-]*)+)$' then
    return false;
  end if;
  -- The name must exist in the server's time zone database. Looking it up in pg_timezone_names
  -- costs tens of milliseconds; converting one instant costs microseconds.
  begin
    perform pg_catalog.timezone(zone, timestamptz '2000-01-01 00:00:00+00');
  exception
    when invalid_parameter_value then
      return false;
  end;
  return true;
end;
$$;

comment on function public.is_valid_timezone(text) is
  'True when zone is an IANA time zone name the server knows (e.g. Europe/Moscow). Used by check constraints; immutable as PostgreSQL''s own timezone() is.';

-- ---------------------------------------------------------------------------------------------
-- profiles: one per auth user, created by public.handle_new_user()
-- ---------------------------------------------------------------------------------------------

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  full_name text,
  locale text not null default 'ru',
  timezone text not null default 'Europe/Moscow',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_email_check check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  constraint profiles_locale_check check (locale in ('ru', 'en')),
  constraint profiles_timezone_check check (public.is_valid_timezone(timezone))
);

comment on table public.profiles is
  'One row per auth user: contact address, language and time zone for emails and reports. Created by the on_auth_user_created trigger.';
comment on column public.profiles.email is
  'Copy of auth.users.email, kept in sync by triggers on auth.users; where emails are sent.';
comment on column public.profiles.locale is 'Language of emails and reports: ru (default) or en.';
comment on column public.profiles.timezone is
  'IANA time zone name used to show appointment times (default Europe/Moscow).';

create trigger profiles_set_updated_at
  before update on public.profiles
  for each row execute function public.set_updated_at();

alter table public.profiles enable row level security;

revoke all on table public.profiles from anon, authenticated;
grant select on table public.profiles to authenticated;
grant update (full_name, locale, timezone) on table public.profiles to authenticated;
grant all on table public.profiles to service_role;

create policy profiles_select_own on public.profiles
  for select to authenticated
  using (id = (select auth.uid()));

create policy profiles_update_own on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- assessments: checkups (self-assessments)
-- ---------------------------------------------------------------------------------------------

create table public.assessments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null,
  title text,
  status text not null default 'in_progress',
  answers jsonb not null default '{}'::jsonb,
  results jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  abandoned_at timestamptz,
  constraint assessments_kind_check check (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
  constraint assessments_status_check check (status in ('in_progress', 'completed', 'abandoned')),
  constraint assessments_completed_at_check check ((status = 'completed') = (completed_at is not null)),
  constraint assessments_abandoned_at_check check ((status = 'abandoned') = (abandoned_at is not null))
);

comment on table public.assessments is
  'Checkups: a user''s self-assessment, its answers and computed results. Completing one triggers a PDF report and an email (later migrations).';
comment on column public.assessments.kind is 'Which checkup (questionnaire) this is, e.g. wellbeing.';
comment on column public.assessments.status is
  'in_progress -> completed (by the user) or abandoned (by the user, or by the daily cleanup after 30 days).';
comment on column public.assessments.completed_at is 'Set exactly when status = completed (filled in if omitted).';
comment on column public.assessments.abandoned_at is 'Set exactly when status = abandoned (filled in if omitted).';

create function public.set_assessment_status_times()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- A status change alone is enough (`update ... set status = 'abandoned'` from a cron job, or a
  -- user completing a checkup): the matching timestamp is filled in. A timestamp left on a row
  -- whose status no longer matches it is not cleared; the check constraints reject that row.
  if new.status = 'completed' and new.completed_at is null then
    new.completed_at := now();
  end if;
  if new.status = 'abandoned' and new.abandoned_at is null then
    new.abandoned_at := now();
  end if;
  return new;
end;
$$;

comment on function public.set_assessment_status_times() is
  'Trigger function (before insert or update of status on public.assessments): fills completed_at / abandoned_at when the status moves there.';

create trigger assessments_set_status_times
  before insert or update of status on public.assessments
  for each row execute function public.set_assessment_status_times();

create trigger assessments_set_updated_at
  before update on public.assessments
  for each row execute function public.set_updated_at();

create index assessments_user_id_created_at_idx on public.assessments (user_id, created_at desc);
-- The daily cleanup: in_progress checkups older than 30 days become abandoned.
create index assessments_in_progress_created_at_idx on public.assessments (created_at)
  where status = 'in_progress';

alter table public.assessments enable row level security;

revoke all on table public.assessments from anon, authenticated;
grant select on table public.assessments to authenticated;
grant insert (id, user_id, kind, title, answers) on table public.assessments to authenticated;
grant update (title, answers, results, status) on table public.assessments to authenticated;
grant all on table public.assessments to service_role;

create policy assessments_select_own on public.assessments
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy assessments_insert_own on public.assessments
  for insert to authenticated
  with check (user_id = (select auth.uid()) and status = 'in_progress');

-- A completed or abandoned checkup is final for its user: completing twice would produce a second
-- report and email.
create policy assessments_update_own_in_progress on public.assessments
  for update to authenticated
  using (user_id = (select auth.uid()) and status = 'in_progress')
  with check (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- appointments: consultations with a specialist
-- ---------------------------------------------------------------------------------------------

create table public.appointments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  specialist_name text not null,
  topic text,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'scheduled',
  payment_status text not null default 'unpaid',
  price_amount numeric(12, 2),
  currency char(3) not null default 'RUB',
  meeting_url text,
  reminder_24h_sent_at timestamptz,
  reminder_1h_sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint appointments_time_range_check check (ends_at > starts_at),
  constraint appointments_status_check check (status in ('scheduled', 'in_progress', 'completed', 'cancelled')),
  constraint appointments_payment_status_check check (payment_status in ('unpaid', 'pending', 'paid', 'refunded')),
  constraint appointments_price_amount_check check (price_amount >= 0),
  constraint appointments_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint appointments_meeting_url_check check (meeting_url ~ '^https?://')
);

comment on table public.appointments is
  'Consultations: a user''s booking with a specialist. Statuses advance on a schedule (scheduled -> in_progress -> completed); reminders go out 24 h and 1 h before.';
comment on column public.appointments.status is
  'scheduled -> in_progress -> completed (by the status cron job), or cancelled (by the user while scheduled, or by the service).';
comment on column public.appointments.payment_status is
  'unpaid -> pending -> paid -> refunded; written by the service from public.payments.';
comment on column public.appointments.price_amount is 'Price set by the service (null until priced; 0 for free).';
comment on column public.appointments.reminder_24h_sent_at is
  'When the 24-hour reminder was queued; null = not yet. Makes the reminder exactly-once.';
comment on column public.appointments.reminder_1h_sent_at is
  'When the 1-hour reminder was queued; null = not yet. Makes the reminder exactly-once.';

create trigger appointments_set_updated_at
  before update on public.appointments
  for each row execute function public.set_updated_at();

create index appointments_user_id_starts_at_idx on public.appointments (user_id, starts_at desc);
-- The status cron job and the reminders: scheduled appointments by start time ...
create index appointments_scheduled_starts_at_idx on public.appointments (starts_at)
  where status = 'scheduled';
-- ... and running ones by end time.
create index appointments_in_progress_ends_at_idx on public.appointments (ends_at)
  where status = 'in_progress';

alter table public.appointments enable row level security;

revoke all on table public.appointments from anon, authenticated;
grant select on table public.appointments to authenticated;
grant insert (id, user_id, specialist_name, topic, starts_at, ends_at) on table public.appointments
  to authenticated;
grant update (status) on table public.appointments to authenticated;
grant all on table public.appointments to service_role;

create policy appointments_select_own on public.appointments
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy appointments_insert_own on public.appointments
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and status = 'scheduled'
    and payment_status = 'unpaid'
    and starts_at > now()
  );

-- The only change a user makes to a booking is cancelling it before it starts; the column grant
-- above limits the update to `status`, this policy limits it to scheduled -> cancelled.
create policy appointments_cancel_own on public.appointments
  for update to authenticated
  using (user_id = (select auth.uid()) and status = 'scheduled')
  with check (user_id = (select auth.uid()) and status = 'cancelled');

-- ---------------------------------------------------------------------------------------------
-- payments: written by the service (payment provider webhooks), read by their user
-- ---------------------------------------------------------------------------------------------

create table public.payments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references public.profiles (id) on delete set null,
  appointment_id uuid references public.appointments (id) on delete set null,
  status text not null default 'pending',
  amount numeric(12, 2) not null,
  currency char(3) not null default 'RUB',
  provider text not null,
  provider_payment_id text,
  failure_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payments_status_check check (status in ('pending', 'completed', 'failed', 'refunded')),
  constraint payments_amount_check check (amount > 0),
  constraint payments_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint payments_provider_check check (provider ~ '^[a-z][a-z0-9_]*$'),
  constraint payments_provider_payment_id_key unique (provider, provider_payment_id)
);

comment on table public.payments is
  'Payments for appointments, one row per provider payment. Status changes notify the user and update the appointment (later migrations). Kept when the user is deleted (user_id becomes null).';
comment on column public.payments.provider is 'Payment provider, lower-case (e.g. yookassa).';
comment on column public.payments.provider_payment_id is
  'The provider''s id for this payment; unique per provider (null until the provider assigns one).';
comment on column public.payments.failure_reason is 'Why the provider declined the payment (status failed).';

create trigger payments_set_updated_at
  before update on public.payments
  for each row execute function public.set_updated_at();

create index payments_user_id_created_at_idx on public.payments (user_id, created_at desc);
create index payments_appointment_id_idx on public.payments (appointment_id);

alter table public.payments enable row level security;

revoke all on table public.payments from anon, authenticated;
grant select on table public.payments to authenticated;
grant all on table public.payments to service_role;

create policy payments_select_own on public.payments
  for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- auth.users -> public.profiles
-- ---------------------------------------------------------------------------------------------

create function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  meta jsonb := coalesce(new.raw_user_meta_data, '{}'::jsonb);
begin
  -- Sign-up metadata is user input: a locale or time zone we do not support falls back to the
  -- defaults instead of failing the sign-up. The defaults repeat the column defaults above.
  insert into public.profiles (id, email, full_name, locale, timezone)
  values (
    new.id,
    new.email,
    nullif(btrim(coalesce(meta ->> 'full_name', meta ->> 'name')), ''),
    case when meta ->> 'locale' in ('ru', 'en') then meta ->> 'locale' else 'ru' end,
    case when public.is_valid_timezone(meta ->> 'timezone') then meta ->> 'timezone' else 'Europe/Moscow' end
  );
  return new;
end;
$$;

comment on function public.handle_new_user() is
  'Trigger function on_auth_user_created (after insert on auth.users, fired as GoTrue''s role): creates the user''s profile from email and raw_user_meta_data (full_name, locale, timezone). Security definer because the auth role has no rights on public.profiles. Not callable directly.';

revoke execute on function public.handle_new_user() from public, anon, authenticated, service_role;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function public.handle_new_user();

create function public.handle_user_email_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles
  set email = new.email
  where id = new.id;
  return new;
end;
$$;

comment on function public.handle_user_email_change() is
  'Trigger function on_auth_user_email_changed (after update of email on auth.users, fired as GoTrue''s role): copies a confirmed email change to public.profiles.email. Security definer because the auth role has no rights on public.profiles. Not callable directly.';

revoke execute on function public.handle_user_email_change() from public, anon, authenticated, service_role;

create trigger on_auth_user_email_changed
  after update of email on auth.users
  for each row
  when (new.email is distinct from old.email and new.email is not null)
  execute function public.handle_user_email_change();

-- Trigger functions are not API: keep them out of PostgREST's RPC surface.
revoke execute on function public.set_updated_at() from public, anon, authenticated, service_role;
revoke execute on function public.set_assessment_status_times() from public, anon, authenticated, service_role;
