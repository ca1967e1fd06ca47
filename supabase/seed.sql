-- seed.sql: development data for a fresh database, applied after supabase/migrations
-- (`supabase db reset` runs it; so do `pnpm dev` and packages/db/test/seed.test.ts).
--
-- Fixed ids so that tests, docs and bug reports can name rows. Times are relative to now(), so
-- the reminder and status jobs always find something to do right after a reset:
--
--   users (auth.users; profiles come from the on_auth_user_created trigger)
--     11111111-1111-4111-8111-111111111111  anna.ivanova@example.com  ru  Europe/Moscow
--     22222222-2222-4222-8222-222222222222  john.smith@example.com    en  Europe/London
--     33333333-3333-4333-8333-333333333333  oleg.petrov@example.com   ru  Asia/Yekaterinburg
--     99999999-9999-4999-8999-999999999999  operator@balansity.local  en  (operator: app_metadata.role)
--
--   assessments (checkups)
--     aaaaaaaa-0000-4000-8000-000000000001  anna  in_progress  started 2 days ago
--     aaaaaaaa-0000-4000-8000-000000000002  anna  completed    yesterday, with results
--     aaaaaaaa-0000-4000-8000-000000000003  john  abandoned    40 days ago
--     aaaaaaaa-0000-4000-8000-000000000004  oleg  in_progress  started 31 days ago (due for cleanup)
--
--   appointments (consultations)
--     bbbbbbbb-0000-4000-8000-000000000001  anna  completed    a week ago          paid
--     bbbbbbbb-0000-4000-8000-000000000002  anna  scheduled    in 30 minutes       paid      (1 h reminder due)
--     bbbbbbbb-0000-4000-8000-000000000003  john  scheduled    in 23.5 hours       pending   (24 h reminder due)
--     bbbbbbbb-0000-4000-8000-000000000004  oleg  cancelled    in 3 days           refunded
--     bbbbbbbb-0000-4000-8000-000000000005  oleg  in_progress  began 20 min ago    unpaid    (intro call, no price)
--
--   payments
--     cccccccc-0000-4000-8000-000000000001  anna  appointment 1  completed  3000.00 RUB
--     cccccccc-0000-4000-8000-000000000002  anna  appointment 2  completed  3000.00 RUB
--     cccccccc-0000-4000-8000-000000000003  john  appointment 3  failed     40.00 EUR  (card declined)
--     cccccccc-0000-4000-8000-000000000004  john  appointment 3  pending    40.00 EUR  (second attempt)
--     cccccccc-0000-4000-8000-000000000005  oleg  appointment 4  refunded   2500.00 RUB
--
-- No secrets: the users have no password (encrypted_password is empty), so they cannot sign in
-- with one; sign in locally with a magic link (it lands in the local mail sink) or mint a JWT.
-- The empty token columns are what GoTrue expects instead of NULL.

insert into auth.users (
  instance_id,
  id,
  aud,
  role,
  email,
  encrypted_password,
  email_confirmed_at,
  confirmation_token,
  recovery_token,
  email_change_token_new,
  email_change,
  raw_app_meta_data,
  raw_user_meta_data,
  created_at,
  updated_at
)
values
  (
    '00000000-0000-0000-0000-000000000000',
    '11111111-1111-4111-8111-111111111111',
    'authenticated',
    'authenticated',
    'anna.ivanova@example.com',
    '',
    now() - interval '60 days',
    '',
    '',
    '',
    '',
    '{"provider": "email", "providers": ["email"]}',
    '{"full_name": "Анна Иванова", "locale": "ru", "timezone": "Europe/Moscow"}',
    now() - interval '60 days',
    now() - interval '60 days'
  ),
  (
    '00000000-0000-0000-0000-000000000000',
    '22222222-2222-4222-8222-222222222222',
    'authenticated',
    'authenticated',
    'john.smith@example.com',
    '',
    now() - interval '45 days',
    '',
    '',
    '',
    '',
    '{"provider": "email", "providers": ["email"]}',
    '{"full_name": "John Smith", "locale": "en", "timezone": "Europe/London"}',
    now() - interval '45 days',
    now() - interval '45 days'
  ),
  (
    '00000000-0000-0000-0000-000000000000',
    '33333333-3333-4333-8333-333333333333',
    'authenticated',
    'authenticated',
    'oleg.petrov@example.com',
    '',
    now() - interval '35 days',
    '',
    '',
    '',
    '',
    '{"provider": "email", "providers": ["email"]}',
    '{"full_name": "Олег Петров", "locale": "ru", "timezone": "Asia/Yekaterinburg"}',
    now() - interval '35 days',
    now() - interval '35 days'
  );

-- The operator of the console (apps/console): app_metadata.role = operator is what
-- public.is_operator() reads from the JWT. Sign in with the link `pnpm dev` prints.
insert into auth.users (
  instance_id,
  id,
  aud,
  role,
  email,
  encrypted_password,
  email_confirmed_at,
  confirmation_token,
  recovery_token,
  email_change_token_new,
  email_change,
  raw_app_meta_data,
  raw_user_meta_data,
  created_at,
  updated_at
)
values (
  '00000000-0000-0000-0000-000000000000',
  '99999999-9999-4999-8999-999999999999',
  'authenticated',
  'authenticated',
  'operator@balansity.local',
  '',
  now() - interval '90 days',
  '',
  '',
  '',
  '',
  '{"provider": "email", "providers": ["email"], "role": "operator"}',
  '{"full_name": "Operator", "locale": "en", "timezone": "Europe/Moscow"}',
  now() - interval '90 days',
  now() - interval '90 days'
);

insert into public.assessments (
  id, user_id, kind, title, status, answers, results, created_at, updated_at, completed_at, abandoned_at
)
values
  (
    'aaaaaaaa-0000-4000-8000-000000000001',
    '11111111-1111-4111-8111-111111111111',
    'stress',
    'Уровень стресса',
    'in_progress',
    '{"q1": 3, "q2": 4}',
    null,
    now() - interval '2 days',
    now() - interval '2 days',
    null,
    null
  ),
  (
    'aaaaaaaa-0000-4000-8000-000000000002',
    '11111111-1111-4111-8111-111111111111',
    'wellbeing',
    'Общее самочувствие',
    'completed',
    '{"q1": 4, "q2": 2, "q3": 5, "q4": 3}',
    '{"score": 72, "level": "moderate", "scales": {"energy": 64, "sleep": 80, "mood": 71}}',
    now() - interval '1 day 2 hours',
    now() - interval '1 day',
    now() - interval '1 day',
    null
  ),
  (
    'aaaaaaaa-0000-4000-8000-000000000003',
    '22222222-2222-4222-8222-222222222222',
    'wellbeing',
    'General wellbeing',
    'abandoned',
    '{"q1": 2}',
    null,
    now() - interval '40 days',
    now() - interval '10 days',
    null,
    now() - interval '10 days'
  ),
  (
    'aaaaaaaa-0000-4000-8000-000000000004',
    '33333333-3333-4333-8333-333333333333',
    'sleep',
    'Качество сна',
    'in_progress',
    '{"q1": 1}',
    null,
    now() - interval '31 days',
    now() - interval '31 days',
    null,
    null
  );

insert into public.appointments (
  id,
  user_id,
  specialist_name,
  topic,
  starts_at,
  ends_at,
  status,
  payment_status,
  price_amount,
  currency,
  meeting_url,
  reminder_24h_sent_at,
  reminder_1h_sent_at,
  created_at,
  updated_at
)
values
  (
    'bbbbbbbb-0000-4000-8000-000000000001',
    '11111111-1111-4111-8111-111111111111',
    'Мария Соколова',
    'Разбор результатов чекапа',
    now() - interval '7 days',
    now() - interval '7 days' + interval '1 hour',
    'completed',
    'paid',
    3000.00,
    'RUB',
    'https://meet.example.com/balansity-seed-1',
    now() - interval '8 days',
    now() - interval '7 days 1 hour',
    now() - interval '10 days',
    now() - interval '7 days' + interval '1 hour'
  ),
  (
    'bbbbbbbb-0000-4000-8000-000000000002',
    '11111111-1111-4111-8111-111111111111',
    'Мария Соколова',
    'Повторная консультация',
    now() + interval '30 minutes',
    now() + interval '90 minutes',
    'scheduled',
    'paid',
    3000.00,
    'RUB',
    'https://meet.example.com/balansity-seed-2',
    now() - interval '23 hours',
    null,
    now() - interval '3 days',
    now() - interval '23 hours'
  ),
  (
    'bbbbbbbb-0000-4000-8000-000000000003',
    '22222222-2222-4222-8222-222222222222',
    'Dr. Emily Carter',
    'First consultation',
    now() + interval '23 hours 30 minutes',
    now() + interval '24 hours 30 minutes',
    'scheduled',
    'pending',
    40.00,
    'EUR',
    'https://meet.example.com/balansity-seed-3',
    null,
    null,
    now() - interval '1 day',
    now() - interval '1 hour'
  ),
  (
    'bbbbbbbb-0000-4000-8000-000000000004',
    '33333333-3333-4333-8333-333333333333',
    'Игорь Волков',
    'Сон и восстановление',
    now() + interval '3 days',
    now() + interval '3 days 1 hour',
    'cancelled',
    'refunded',
    2500.00,
    'RUB',
    null,
    null,
    null,
    now() - interval '5 days',
    now() - interval '2 days'
  ),
  (
    'bbbbbbbb-0000-4000-8000-000000000005',
    '33333333-3333-4333-8333-333333333333',
    'Игорь Волков',
    'Знакомство',
    now() - interval '20 minutes',
    now() + interval '40 minutes',
    'in_progress',
    'unpaid',
    null,
    'RUB',
    'https://meet.example.com/balansity-seed-5',
    now() - interval '1 day',
    now() - interval '80 minutes',
    now() - interval '4 days',
    now() - interval '20 minutes'
  );

insert into public.payments (
  id,
  user_id,
  appointment_id,
  status,
  amount,
  currency,
  provider,
  provider_payment_id,
  failure_reason,
  created_at,
  updated_at
)
values
  (
    'cccccccc-0000-4000-8000-000000000001',
    '11111111-1111-4111-8111-111111111111',
    'bbbbbbbb-0000-4000-8000-000000000001',
    'completed',
    3000.00,
    'RUB',
    'yookassa',
    'seed-yk-0001',
    null,
    now() - interval '10 days',
    now() - interval '10 days'
  ),
  (
    'cccccccc-0000-4000-8000-000000000002',
    '11111111-1111-4111-8111-111111111111',
    'bbbbbbbb-0000-4000-8000-000000000002',
    'completed',
    3000.00,
    'RUB',
    'yookassa',
    'seed-yk-0002',
    null,
    now() - interval '3 days',
    now() - interval '3 days'
  ),
  (
    'cccccccc-0000-4000-8000-000000000003',
    '22222222-2222-4222-8222-222222222222',
    'bbbbbbbb-0000-4000-8000-000000000003',
    'failed',
    40.00,
    'EUR',
    'stripe',
    'seed-st-0003',
    'card_declined',
    now() - interval '1 day',
    now() - interval '1 day'
  ),
  (
    'cccccccc-0000-4000-8000-000000000004',
    '22222222-2222-4222-8222-222222222222',
    'bbbbbbbb-0000-4000-8000-000000000003',
    'pending',
    40.00,
    'EUR',
    'stripe',
    'seed-st-0004',
    null,
    now() - interval '1 hour',
    now() - interval '1 hour'
  ),
  (
    'cccccccc-0000-4000-8000-000000000005',
    '33333333-3333-4333-8333-333333333333',
    'bbbbbbbb-0000-4000-8000-000000000004',
    'refunded',
    2500.00,
    'RUB',
    'yookassa',
    'seed-yk-0005',
    null,
    now() - interval '5 days',
    now() - interval '2 days'
  );
