-- 054_reminder_unsubscribe.sql: reminder emails can be turned off, by the user in the app or with
-- the one-click unsubscribe link every reminder carries (List-Unsubscribe, RFC 8058); the reminder
-- cron job honours it. Confirmations, receipts and report emails are transactional: they have no
-- such switch.
--
-- The preference is a column of the user's profile (like locale and timezone, which emails also
-- follow): the frontend reads and changes it through supabase-js with the profile's RLS (own row
-- only) and a column grant (update (reminder_emails)). The Edge Function `unsubscribe` checks the
-- link's signature and applies it with the service role.
--
--   object                                                     who
--   public.profiles.reminder_emails                            authenticated: select + update own row
--   public.profiles.reminder_emails_unsubscribed_at            read-only: when the link turned them off
--   public.unsubscribe_reminder_emails(p_user_id)              service_role (the Edge Function)
--   public.send_appointment_reminders(p_now)  (re-declared)    cron: skips users with reminders off

alter table public.profiles
  add column reminder_emails boolean not null default true,
  add column reminder_emails_unsubscribed_at timestamp with time zone;

comment on column public.profiles.reminder_emails is
  'Whether the appointment reminders (24 h and 1 h before) are emailed. The user changes it in the app (own row, column grant) or turns it off with the unsubscribe link of a reminder (public.unsubscribe_reminder_emails). Confirmations and receipts are sent regardless.';
comment on column public.profiles.reminder_emails_unsubscribed_at is
  'When the unsubscribe link of a reminder email (List-Unsubscribe one-click) first turned reminders off since they were last on; null = never. Set only by public.unsubscribe_reminder_emails.';

grant update (reminder_emails) on table public.profiles to authenticated;

create function public.unsubscribe_reminder_emails(p_user_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Idempotent: only a change from on to off records the time; a second click finds it off.
  update public.profiles as p
  set reminder_emails = false,
      reminder_emails_unsubscribed_at = pg_catalog.now()
  where p.id = p_user_id
    and p.reminder_emails;
  if found then
    return pg_catalog.jsonb_build_object('outcome', 'unsubscribed');
  end if;
  if exists (select 1 from public.profiles as p where p.id = p_user_id) then
    return pg_catalog.jsonb_build_object('outcome', 'already_off');
  end if;
  -- The account was deleted: nothing is sent to it anyway.
  return pg_catalog.jsonb_build_object('outcome', 'unknown_user');
end;
$$;

comment on function public.unsubscribe_reminder_emails(uuid) is
  'service_role (the unsubscribe Edge Function, after checking the link''s HMAC): turns the user''s reminder emails off (profiles.reminder_emails = false) and records when (reminder_emails_unsubscribed_at). Idempotent. Returns {"outcome": "unsubscribed" | "already_off" | "unknown_user"}.';

revoke execute on function public.unsubscribe_reminder_emails(uuid) from public, anon, authenticated;
grant execute on function public.unsubscribe_reminder_emails(uuid) to service_role;

create or replace function public.send_appointment_reminders(p_now timestamp with time zone default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $function$
declare
  marked_24h integer;
  sent_24h integer;
  marked_1h integer;
  sent_1h integer;
  undeliverable integer;
begin
  -- Exactly once: one statement per reminder marks the due rows (reminder_*_sent_at) and queues their
  -- emails, so both commit together or neither does. A repeated run finds the mark; a late run (hours
  -- skipped) still finds every unmarked appointment whose window it is in; a concurrent run waits for
  -- the row locks of this one's update and then re-checks its `where` on the committed rows (READ
  -- COMMITTED), where `reminder_*_sent_at is null` no longer holds. (Runs seldom overlap: pg_cron
  -- never starts a job while its previous run is going, and the worker's scheduler holds an advisory
  -- lock per job; this covers a run by hand.)
  --
  -- Windows (hourly runs): 24 h reminder while starts_at is in (now + 1 h, now + 24 h], 1 h reminder
  -- while it is in (now, now + 1 h]. They do not overlap, so one run never sends both; a 24 h reminder
  -- whose window closed unsent (runs skipped for a day) is not sent late: the 1 h one follows.
  -- Only scheduled appointments: never cancelled ones, never ones that started.
  --
  -- Same-day bookings: no 24 h reminder unless the appointment was booked more than 24 h before it
  -- starts; a reminder an hour after booking would repeat the booking confirmation (032). The 1 h
  -- reminder has no such rule: it carries the meeting link at the moment it is needed.
  --
  -- Opted out (054): a user whose profile says reminder_emails = false gets neither reminder. Their
  -- appointments are left unmarked, so turning reminders back on while a window is open still sends it.
  --
  -- Messages follow emailMessageSchema (packages/queues/src/catalog.ts): the worker renders dates in the
  -- profile's time zone and language. All of a run's messages go in one pgmq.send_batch (one insert,
  -- one wake-up notification); `having count(*) > 0` skips the call when nothing is due. They are
  -- built here rather than by public.queue_email_task (031) to send them in one insert instead of
  -- one call per row. An address the email queue refuses (public.is_email_address, 031) is marked
  -- handled but not queued, as the confirmation trigger of 032 does, and counted as undeliverable.
  with marked as (
    update public.appointments as a
    set reminder_24h_sent_at = p_now
    where a.status = 'scheduled'
      and a.starts_at > p_now + interval '1 hour'
      and a.starts_at <= p_now + interval '24 hours'
      and a.reminder_24h_sent_at is null
      and a.created_at < a.starts_at - interval '24 hours'
      -- 054: not to users who turned reminders off (the unsubscribe link, or the app).
      and exists (
        select 1 from public.profiles as pr where pr.id = a.user_id and pr.reminder_emails
      )
    returning a.id, a.user_id, a.starts_at, a.ends_at, a.specialist_name, a.meeting_url
  ),
  sent as (
    select pgmq.send_batch(
      'email_queue',
      pg_catalog.array_agg(
        pg_catalog.jsonb_build_object(
          'version', 1,
          'idempotency_key', 'appointment_reminder_24h:' || m.id::text,
          'to', p.email,
          'template', 'appointment_reminder_24h',
          'locale', p.locale,
          'timezone', p.timezone,
          'priority', 0,
          'user_id', m.user_id,
          'variables', pg_catalog.jsonb_build_object(
            'appointment_id', m.id,
            'starts_at', m.starts_at,
            'ends_at', m.ends_at,
            'consultant_name', m.specialist_name,
            'meeting_url', m.meeting_url,
            'user_name', p.full_name
          )
        )
        order by m.starts_at, m.id
      )
    ) as msg_id
    from marked as m
    join public.profiles as p on p.id = m.user_id
    where public.is_email_address(p.email)
    having count(*) > 0
  )
  select (select count(*) from marked), (select count(*) from sent) into marked_24h, sent_24h;

  with marked as (
    update public.appointments as a
    set reminder_1h_sent_at = p_now
    where a.status = 'scheduled'
      and a.starts_at > p_now
      and a.starts_at <= p_now + interval '1 hour'
      and a.reminder_1h_sent_at is null
      -- 054: not to users who turned reminders off (the unsubscribe link, or the app).
      and exists (
        select 1 from public.profiles as pr where pr.id = a.user_id and pr.reminder_emails
      )
    returning a.id, a.user_id, a.starts_at, a.ends_at, a.specialist_name, a.meeting_url
  ),
  sent as (
    select pgmq.send_batch(
      'email_queue',
      pg_catalog.array_agg(
        pg_catalog.jsonb_build_object(
          'version', 1,
          'idempotency_key', 'appointment_reminder_1h:' || m.id::text,
          'to', p.email,
          'template', 'appointment_reminder_1h',
          'locale', p.locale,
          'timezone', p.timezone,
          'priority', 1,
          'user_id', m.user_id,
          'variables', pg_catalog.jsonb_build_object(
            'appointment_id', m.id,
            'starts_at', m.starts_at,
            'ends_at', m.ends_at,
            'consultant_name', m.specialist_name,
            'meeting_url', m.meeting_url,
            'user_name', p.full_name
          )
        )
        order by m.starts_at, m.id
      )
    ) as msg_id
    from marked as m
    join public.profiles as p on p.id = m.user_id
    where public.is_email_address(p.email)
    having count(*) > 0
  )
  select (select count(*) from marked), (select count(*) from sent) into marked_1h, sent_1h;

  undeliverable := (marked_24h - sent_24h) + (marked_1h - sent_1h);
  if undeliverable > 0 then
    raise warning 'send_appointment_reminders: % reminder(s) not queued: the user''s address is one the email queue refuses',
      undeliverable;
  end if;

  return pg_catalog.jsonb_build_object(
    'reminder_24h', sent_24h,
    'reminder_1h', sent_1h,
    'undeliverable', undeliverable
  );
end;
$function$;
comment on function public.send_appointment_reminders(timestamp with time zone) is
  'Cron job send-appointment-reminders (hourly; pg_cron or the worker''s scheduler as service_role): queues appointment_reminder_24h (starts in 1-24 h, booked more than 24 h ahead) and appointment_reminder_1h (starts within the hour, priority 1) emails to email_queue, each exactly once per appointment (reminder_*_sent_at set in the same statement; an address the queue refuses is skipped with a warning), never to a user whose profile has reminder_emails = false (054). p_now is for tests. Returns {"reminder_24h": n, "reminder_1h": n, "undeliverable": n}.';
