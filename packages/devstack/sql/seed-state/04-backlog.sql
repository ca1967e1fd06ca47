-- The backlog (TEST FIXTURE): what the seed-era triggers, cron jobs and frontend queued while no worker
-- ran, in the seed-era shapes — no `version`, no `idempotency_key`, the frontend's thin variables
-- ({name: 'Иван'}); the triggers' emails name their row as the seed-era example does
-- ({"assessment_id": "..."}) — some older than 30 days, some read once already (the seed-era Edge Function
-- example, a test by hand) and never archived.

select pgmq.send('email_queue', m) from (values
  ('{"to": "ivan@example.com", "subject": "Ваш чекап завершен", "template": "checkup_completed", "variables": {"name": "Иван", "assessment_id": "b0000000-0000-4000-8000-000000000001"}, "priority": 0}'::jsonb),
  ('{"to": "ivan@example.com", "subject": "Ваш отчет готов", "template": "report_ready", "variables": {"name": "Иван"}, "priority": 0}'::jsonb),
  ('{"to": "maria@example.com", "subject": "Запись на консультацию подтверждена", "template": "appointment_confirmation", "variables": {"name": "Maria", "appointment_id": "c0000000-0000-4000-8000-000000000002", "starts_at": "2025-11-20T10:00:00+00:00"}, "priority": 1}'::jsonb),
  ('{"to": "ivan@example.com", "subject": "Напоминание о консультации", "template": "appointment_reminder", "variables": {"name": "Иван Петров", "appointment_id": "c0000000-0000-4000-8000-000000000001"}, "priority": 1}'::jsonb),
  ('{"to": "maria@example.com", "subject": "Оплата получена", "template": "payment_succeeded", "variables": {"name": "Maria", "payment_id": "d0000000-0000-4000-8000-000000000002", "amount": 3000}, "priority": 5}'::jsonb),
  ('{"to": "ivan@example.com", "subject": "Тема письма", "template": "checkup_completed", "variables": {"assessment_id": "b0000000-0000-4000-8000-000000000001"}, "priority": 0}'::jsonb)
) as backlog (m);

select pgmq.send('report_generation_queue', m) from (values
  ('{"assessment_id": "b0000000-0000-4000-8000-000000000001", "user_id": "a0000000-0000-4000-8000-000000000001", "report_type": "pdf"}'::jsonb)
) as backlog (m);

select pgmq.send('payment_processing_queue', m) from (values
  ('{"payment_id": "d0000000-0000-4000-8000-000000000002", "action": "verify"}'::jsonb)
) as backlog (m);

select pgmq.send('analytics_queue', m) from (values
  ('{"event_type": "checkup_completed", "user_id": "a0000000-0000-4000-8000-000000000001", "assessment_id": "b0000000-0000-4000-8000-000000000001", "timestamp": "2025-10-20T09:00:00+00:00"}'::jsonb),
  ('{"event_type": "appointment_booked", "user_id": "a0000000-0000-4000-8000-000000000002", "appointment_id": "c0000000-0000-4000-8000-000000000002", "timestamp": "2025-11-19T09:00:00+00:00"}'::jsonb)
) as backlog (m);

-- Older than 30 days: the first message of every queue.
update pgmq.q_email_queue set enqueued_at = now() - interval '45 days' where msg_id in (select min(msg_id) from pgmq.q_email_queue);
update pgmq.q_report_generation_queue set enqueued_at = now() - interval '44 days';
update pgmq.q_payment_processing_queue set enqueued_at = now() - interval '40 days';
update pgmq.q_analytics_queue set enqueued_at = now() - interval '44 days' where msg_id in (select min(msg_id) from pgmq.q_analytics_queue);

-- Read once by an earlier consumer that never archived them; visible again.
update pgmq.q_email_queue set read_ct = 1, vt = now() - interval '1 day'
where msg_id in (select msg_id from pgmq.q_email_queue order by msg_id offset 1 limit 2);
update pgmq.q_analytics_queue set read_ct = 2, vt = now() - interval '1 day'
where msg_id in (select max(msg_id) from pgmq.q_analytics_queue);
