-- ---------------------------------------------------------------------------------------------
-- 056_email_delivery_transport.sql: the delivery log records which SMTP account sent each email.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL, inside one transaction. Needs 046 and 050.
--
-- The worker may send through a second SMTP account (SMTP_FALLBACK_*): transactional email goes
-- through it while the primary has been throttled or down longer than SMTP_FALLBACK_AFTER. The worker
-- writes `transport` with `status = 'sent'`; every email sent before this migration went through the
-- only account there was, the primary.

alter table automation.email_deliveries
  add column transport text check (transport in ('primary', 'fallback'));

comment on column automation.email_deliveries.transport is
  'Which SMTP account accepted the email: primary (SMTP_*) or fallback (SMTP_FALLBACK_*, transactional email while the primary was throttled or down). Set by the worker with status sent; null until then.';

update automation.email_deliveries set transport = 'primary' where status = 'sent';

-- The console shows the transport: the result type changes, so drop and create. The body is 050's
-- (masking of recipient and error, exact-address search) with d.transport added.
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
  sent_at timestamptz,
  transport text
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
  -- search: the exact recipient address or its masked form (case-insensitive), a template or a status.
  return query
  select d.idempotency_key, d.msg_id, d.template, automation.mask_text(d.recipient), d.status, d.attempts,
         d.resends, d.smtp_message_id, automation.mask_text(d.error), d.created_at, d.updated_at, d.sent_at,
         d.transport
  from automation.email_deliveries as d
  where pattern is null
     or pg_catalog.lower(d.recipient) = pg_catalog.lower(pattern)
     or pg_catalog.lower(automation.mask_text(d.recipient)) = pg_catalog.lower(pattern)
     or d.template = pattern
     or d.status = pattern
  order by d.created_at desc
  limit max_count;
end;
$$;

revoke execute on function public.console_email_deliveries(text, integer) from public, anon, authenticated;
grant execute on function public.console_email_deliveries(text, integer) to operator, service_role;

comment on function public.console_email_deliveries(text, integer) is
  'Operator console (operators, service_role): the newest max_count (1..1000, default 100) rows of the worker''s delivery log (automation.email_deliveries), recipient and error masked, with resends (sent again after an attempt with no result, same Message-ID), the Message-ID and the SMTP account that sent it (transport: primary or fallback). search: the exact recipient address or its masked form (a***@d***), case-insensitive, or a template or status name.';
