-- One row per email the worker sends, keyed by the message's idempotency key: the worker claims the
-- key before SMTP (a lease, so no connection is held while the server talks) and records the server's
-- acceptance after it, so a retry or a second worker never sends an accepted email again.
create schema if not exists automation;

create table if not exists automation.email_deliveries (
  idempotency_key text primary key,
  msg_id bigint not null,
  template text not null,
  recipient text not null,
  status text not null check (status in ('sending', 'sent', 'failed')),
  lease_until timestamptz,
  attempts integer not null default 1 check (attempts > 0),
  smtp_message_id text,
  smtp_response text,
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  check ((status = 'sent') = (sent_at is not null))
);

comment on table automation.email_deliveries is
  'Email delivery log of the queue worker (idempotency: one accepted send per key). Written by the worker as service_role.';

create index if not exists email_deliveries_created_at_idx on automation.email_deliveries (created_at);

alter table automation.email_deliveries enable row level security;
-- No policies: only service_role (bypasses RLS) and the owner read or write it; the schema is not exposed.
revoke all on automation.email_deliveries from public;
grant usage on schema automation to service_role;
grant select, insert, update, delete on automation.email_deliveries to service_role;
