-- The Balansity app's own tables as the live project has them (TEST FIXTURE, never a migration).
--
-- Created by the app long before the automation: the columns the automation needs, a few of its
-- own (avatar_url, phone, score, notes, description), and some the automation added later that the
-- live project does not have yet (profiles.timezone, assessments.abandoned_at, the appointments'
-- reminder marks). Supabase's default privileges grant everything in `public` to anon and
-- authenticated; the app's own policies restrict the rows. The team's own table (specialists) and
-- the app's own trigger function (update_updated_at_column) are not the automation's.

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  full_name text,
  avatar_url text,
  phone text,
  locale text not null default 'ru',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.assessments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null,
  title text,
  status text not null default 'in_progress',
  answers jsonb not null default '{}'::jsonb,
  results jsonb,
  score integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz
);

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
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

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
  description text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- The team's own table.
create table public.specialists (
  id serial primary key,
  name text not null,
  sessions_total integer not null default 0,
  stats_refreshed_at timestamptz
);

-- The app's updated_at trigger (the usual Supabase snippet), on its tables.
create function public.update_updated_at_column()
returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create trigger update_profiles_updated_at before update on public.profiles
  for each row execute function public.update_updated_at_column();
create trigger update_assessments_updated_at before update on public.assessments
  for each row execute function public.update_updated_at_column();

-- The app's own function for its dashboard, granted to the API roles by Supabase's defaults.
create function public.get_dashboard_stats()
returns jsonb
language sql
stable
as $$
  select jsonb_build_object(
    'assessments', (select count(*) from public.assessments),
    'appointments', (select count(*) from public.appointments)
  );
$$;

alter table public.profiles enable row level security;
alter table public.assessments enable row level security;
alter table public.appointments enable row level security;
alter table public.payments enable row level security;

create policy "Users can view own profile" on public.profiles for select using (auth.uid() = id);
create policy "Users can view own assessments" on public.assessments for select using (auth.uid() = user_id);
create policy "Users can manage own appointments" on public.appointments for all using (auth.uid() = user_id);
create policy "Users can view own payments" on public.payments for select using (auth.uid() = user_id);

-- The app's rows.
insert into auth.users (id, aud, role, email, raw_user_meta_data, email_confirmed_at) values
  ('a0000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'ivan@example.com', '{"full_name": "Иван"}', now()),
  ('a0000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated', 'maria@example.com', '{"full_name": "Мария"}', now()),
  ('a0000000-0000-4000-8000-000000000003', 'authenticated', 'authenticated', 'oleg@example.com', '{}', now());

insert into public.profiles (id, email, full_name, avatar_url, phone, locale) values
  ('a0000000-0000-4000-8000-000000000001', 'ivan@example.com', 'Иван Петров', 'https://cdn.example.com/a/1.png', '+7 900 000-00-01', 'ru'),
  ('a0000000-0000-4000-8000-000000000002', 'maria@example.com', 'Maria Smirnova', null, null, 'en'),
  -- A locale the automation does not know: breaks profiles_locale_check, reported, not cut.
  ('a0000000-0000-4000-8000-000000000003', 'oleg@example.com', 'Олег', null, null, 'de');

insert into public.assessments (id, user_id, kind, title, status, answers, results, score, created_at, completed_at) values
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'wellbeing', 'Чекап благополучия', 'completed',
   '{"q1": 4, "q2": 3, "q3": 5, "q4": 2, "q5": 4, "q6": 3}', '{"total": 21}', 21, now() - interval '45 days', now() - interval '44 days'),
  ('b0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001', 'stress', 'Стресс', 'in_progress',
   '{"q1": 2}', null, null, now() - interval '2 days', null),
  ('b0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 'sleep', 'Sleep', 'in_progress',
   '{"q1": 3, "q2": 4, "q3": 2, "q4": 5, "q5": 1, "q6": 3}', null, null, now() - interval '1 day', null),
  -- A status the automation does not know: breaks assessments_status_check, reported, not cut.
  ('b0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000003', 'wellbeing', null, 'draft',
   '{}', null, null, now() - interval '3 days', null);

insert into public.appointments (id, user_id, specialist_name, topic, starts_at, ends_at, status, price_amount, notes) values
  ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'Анна Кузнецова', 'Сон',
   now() + interval '3 days', now() + interval '3 days 1 hour', 'scheduled', 3000, 'первичная'),
  ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002', 'Anna Kuznetsova', 'Stress',
   now() - interval '10 days', now() - interval '10 days' + interval '1 hour', 'completed', 3000, null);

insert into public.payments (id, user_id, appointment_id, status, amount, provider, provider_payment_id, description) values
  ('d0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
   'pending', 3000, 'yookassa', '2f9c1c9e-000f-5000-8000-000000000001', 'Консультация'),
  ('d0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002', 'c0000000-0000-4000-8000-000000000002',
   'completed', 3000, 'yookassa', '2f9c1c9e-000f-5000-8000-000000000002', 'Consultation');

insert into public.specialists (name, sessions_total) values ('Анна Кузнецова', 12), ('Борис Иванов', 3);
