-- 033_pgmq_rpc_wrappers.sql: the queue RPC surface, callable through PostgREST / supabase-js.
--
-- Runs unchanged on Supabase Cloud and on local PostgreSQL prepared by the devstack (pgmq extension
-- or the pgmq-1.5-compatible SQL), inside one transaction. Uses only pgmq 1.5.x functions.
-- Depends on 031_setup_queues.sql: the queues and their `<queue>_dlq` dead-letter queues, and
-- public.queue_report_generation(). PL/pgSQL resolves those names when a function runs, not when it
-- is created.
--
-- Who may call what (see docs/queue-contract.md):
--
--   function                    caller                     what it does
--   pgmq_send                   service_role               pgmq.send to an existing queue
--   pgmq_read                   service_role               pgmq.read (vt seconds, qty messages)
--   pgmq_archive / pgmq_delete  service_role               one message to the archive / gone
--   pgmq_metrics                service_role               pgmq.metrics of one queue
--   pgmq_dead_letter            service_role               move one message to <queue>_dlq, atomically
--   request_assessment_report   authenticated (the owner)  enqueue a PDF report of a completed checkup
--
-- The browser holds only the anon key and a user JWT: it can never read a queue, address an email
-- or send an arbitrary message. Its one door here is request_assessment_report, which checks
-- auth.uid() itself. Every function is security definer (anon and authenticated have no rights on the
-- pgmq schema) with an empty search_path and fully qualified names. Supabase grants execute on new
-- functions in public to anon, authenticated and service_role by default privileges, so each grant
-- is revoked from public, anon and authenticated explicitly and then given to exactly its caller.
--
-- Errors (SQLSTATE): an unknown queue or a bad argument is 22023 (invalid_parameter_value) and the
-- message names the argument; a message that is not in its queue is P0002 (no_data_found).
-- Through PostgREST these become HTTP 400 (22023), 401/403 (42501: anon / a signed-in role) and
-- 500 (P0002: PostgREST sends every P0 code but P0001 to 500); clients go by the SQLSTATE.

-- ---------------------------------------------------------------------------------------------
-- pgmq_send
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_send(queue_name text, message jsonb, delay integer default 0)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  sent_msg_id bigint;
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_send.queue_name) then
    raise exception 'pgmq_send: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_send.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_send.message is null or pg_catalog.jsonb_typeof(pgmq_send.message) <> 'object' then
    raise exception 'pgmq_send: message must be a JSON object'
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_send.delay is null or pgmq_send.delay < 0 then
    raise exception 'pgmq_send: delay must be 0 or more seconds (got %)', pgmq_send.delay
      using errcode = 'invalid_parameter_value';
  end if;
  -- pgmq.send returns setof bigint (one row).
  select sent.id into sent_msg_id from pgmq.send(pgmq_send.queue_name, pgmq_send.message, pgmq_send.delay) as sent (id);
  return sent_msg_id;
end;
$$;

comment on function public.pgmq_send(text, jsonb, integer) is
  'service_role only (servers, Edge Functions): sends message to queue_name, visible after delay seconds; returns its msg_id. Does not check the message against its schema: prefer queue_email_task and the other queue_* helpers, which do.';

-- ---------------------------------------------------------------------------------------------
-- pgmq_read
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_read(queue_name text, vt integer default 30, qty integer default 1)
returns setof pgmq.message_record
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_read.queue_name) then
    raise exception 'pgmq_read: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_read.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_read.vt is null or pgmq_read.vt < 0 then
    raise exception 'pgmq_read: vt must be 0 or more seconds (got %)', pgmq_read.vt
      using errcode = 'invalid_parameter_value';
  end if;
  -- One call holds its rows locked while it runs; 1000 keeps a single read bounded.
  if pgmq_read.qty is null or pgmq_read.qty < 1 or pgmq_read.qty > 1000 then
    raise exception 'pgmq_read: qty must be between 1 and 1000 (got %)', pgmq_read.qty
      using errcode = 'invalid_parameter_value';
  end if;
  return query select * from pgmq.read(pgmq_read.queue_name, pgmq_read.vt, pgmq_read.qty);
end;
$$;

comment on function public.pgmq_read(text, integer, integer) is
  'service_role only (servers, Edge Functions): reads up to qty (1..1000) visible messages of queue_name and hides them for vt seconds (pgmq.read).';

-- ---------------------------------------------------------------------------------------------
-- pgmq_archive, pgmq_delete
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_archive(queue_name text, msg_id bigint)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_archive.queue_name) then
    raise exception 'pgmq_archive: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_archive.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  return pgmq.archive(pgmq_archive.queue_name, pgmq_archive.msg_id);
end;
$$;

comment on function public.pgmq_archive(text, bigint) is
  'service_role only (servers, Edge Functions): moves message msg_id of queue_name to its archive after successful processing; false when it is not in the queue.';

create function public.pgmq_delete(queue_name text, msg_id bigint)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_delete.queue_name) then
    raise exception 'pgmq_delete: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_delete.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  return pgmq.delete(pgmq_delete.queue_name, pgmq_delete.msg_id);
end;
$$;

comment on function public.pgmq_delete(text, bigint) is
  'service_role only (servers, Edge Functions): deletes message msg_id of queue_name for good (no archive copy); false when it is not in the queue.';

-- ---------------------------------------------------------------------------------------------
-- pgmq_metrics
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_metrics(queue_name text)
returns pgmq.metrics_result
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  result pgmq.metrics_result;
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_metrics.queue_name) then
    raise exception 'pgmq_metrics: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_metrics.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  select * into result from pgmq.metrics(pgmq_metrics.queue_name);
  return result;
end;
$$;

comment on function public.pgmq_metrics(text) is
  'service_role only (monitoring, the ops console): pgmq.metrics of queue_name (length, visible length, message ages, messages ever sent).';

-- ---------------------------------------------------------------------------------------------
-- pgmq_dead_letter
-- ---------------------------------------------------------------------------------------------

create function public.pgmq_dead_letter(
  queue_name text,
  msg_id bigint,
  error_code text,
  error_message text,
  attempts integer
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  dead_letter_queue text := pgmq_dead_letter.queue_name || '_dlq';
  original_msg_id bigint;
  original_enqueued_at timestamptz;
  original_message jsonb;
  dead_letter_msg_id bigint;
begin
  if not exists (select from pgmq.meta m where m.queue_name = pgmq_dead_letter.queue_name) then
    raise exception 'pgmq_dead_letter: queue_name "%" is not a queue (pgmq.list_queues() lists them)', pgmq_dead_letter.queue_name
      using errcode = 'invalid_parameter_value';
  end if;
  if not exists (select from pgmq.meta m where m.queue_name = dead_letter_queue) then
    raise exception 'pgmq_dead_letter: queue_name "%" has no dead-letter queue "%"', pgmq_dead_letter.queue_name, dead_letter_queue
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_dead_letter.error_code is null or pg_catalog.btrim(pgmq_dead_letter.error_code) = '' then
    raise exception 'pgmq_dead_letter: error_code must not be empty'
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_dead_letter.error_message is null then
    raise exception 'pgmq_dead_letter: error_message must not be null'
      using errcode = 'invalid_parameter_value';
  end if;
  if pgmq_dead_letter.attempts is null or pgmq_dead_letter.attempts < 0 then
    raise exception 'pgmq_dead_letter: attempts must be 0 or more (got %)', pgmq_dead_letter.attempts
      using errcode = 'invalid_parameter_value';
  end if;

  -- Lock the original first: a concurrent archive, delete or second dead-lettering of the same
  -- message waits, then finds it gone. The send and the delete commit together or not at all.
  execute pg_catalog.format(
    'select msg_id, enqueued_at, message from pgmq.%I where msg_id = $1 for update',
    pgmq.format_table_name(pgmq_dead_letter.queue_name, 'q')
  )
  into original_msg_id, original_enqueued_at, original_message
  using pgmq_dead_letter.msg_id;

  if original_msg_id is null then
    raise exception 'pgmq_dead_letter: message % is not in queue "%"', pgmq_dead_letter.msg_id, pgmq_dead_letter.queue_name
      using errcode = 'no_data_found';
  end if;

  -- The shape is deadLetterSchema in packages/queues/src/catalog.ts.
  select sent.id
  into dead_letter_msg_id
  from pgmq.send(
    dead_letter_queue,
    pg_catalog.jsonb_build_object(
      'queue', pgmq_dead_letter.queue_name,
      'original_msg_id', original_msg_id,
      'message', original_message,
      'error', pg_catalog.jsonb_build_object(
        'code', pgmq_dead_letter.error_code,
        'message', pgmq_dead_letter.error_message
      ),
      'attempts', pgmq_dead_letter.attempts,
      'enqueued_at', original_enqueued_at,
      'failed_at', pg_catalog.now()
    )
  ) as sent (id);
  perform pgmq.delete(pgmq_dead_letter.queue_name, pgmq_dead_letter.msg_id);
  return dead_letter_msg_id;
end;
$$;

comment on function public.pgmq_dead_letter(text, bigint, text, text, integer) is
  'service_role only (the worker, the ops console): moves message msg_id of queue_name to <queue_name>_dlq in one transaction, as { queue, original_msg_id, message, error: { code, message }, attempts, enqueued_at, failed_at }, and deletes the original. Returns the dead-letter msg_id; P0002 when the message is not in the queue.';

-- ---------------------------------------------------------------------------------------------
-- request_assessment_report: the one queue function a signed-in user may call
-- ---------------------------------------------------------------------------------------------

create function public.request_assessment_report(assessment_id uuid)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  requester uuid := (select auth.uid());
  owner_id uuid;
  assessment_status text;
  request_key text;
  pending_msg_id bigint;
begin
  if requester is null then
    raise exception 'request_assessment_report: the request has no signed-in user'
      using errcode = 'insufficient_privilege';
  end if;

  select a.user_id, a.status
  into owner_id, assessment_status
  from public.assessments a
  where a.id = request_assessment_report.assessment_id
    and a.user_id = requester;

  -- Someone else's checkup and a checkup that does not exist get the same answer, so that the
  -- function cannot be used to probe which ids exist.
  if not found then
    raise exception 'assessment not found'
      using errcode = 'no_data_found';
  end if;
  if assessment_status <> 'completed' then
    raise exception 'request_assessment_report: assessment is not completed (status %); a report is made once it is', assessment_status
      using errcode = 'invalid_parameter_value';
  end if;

  -- Idempotency: one key per checkup per UTC hour. While a request with this key still waits in
  -- the queue, asking again returns that message instead of adding another (the advisory lock
  -- makes two concurrent requests agree); once it has been processed, the report processor skips a
  -- repeated key, so a user gets at most one new report per checkup per hour however often they ask.
  request_key := 'report_requested:' || request_assessment_report.assessment_id::text || ':'
    || pg_catalog.to_char(pg_catalog.timezone('UTC', pg_catalog.now()), 'YYYY-MM-DD"T"HH24');
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(request_key, 0));

  select q.msg_id
  into pending_msg_id
  from pgmq.q_report_generation_queue q
  where q.message @> pg_catalog.jsonb_build_object('idempotency_key', request_key)
  order by q.msg_id
  limit 1;
  if pending_msg_id is not null then
    return pending_msg_id;
  end if;

  return public.queue_report_generation(
    assessment_id => request_assessment_report.assessment_id,
    user_id => owner_id,
    report_type => 'pdf',
    idempotency_key => request_key,
    requested_by => 'user'
  );
end;
$$;

comment on function public.request_assessment_report(uuid) is
  'authenticated (the browser, through supabase-js): queues a PDF report of the caller''s own completed checkup; returns the msg_id. "assessment not found" (P0002) for a checkup that does not exist or is not the caller''s, 22023 while it is not completed. Idempotent per checkup per UTC hour: a repeated request returns the pending message.';

-- ---------------------------------------------------------------------------------------------
-- Grants: exactly the callers in the table above
-- ---------------------------------------------------------------------------------------------

revoke execute on function public.pgmq_send(text, jsonb, integer) from public, anon, authenticated;
revoke execute on function public.pgmq_read(text, integer, integer) from public, anon, authenticated;
revoke execute on function public.pgmq_archive(text, bigint) from public, anon, authenticated;
revoke execute on function public.pgmq_delete(text, bigint) from public, anon, authenticated;
revoke execute on function public.pgmq_metrics(text) from public, anon, authenticated;
revoke execute on function public.pgmq_dead_letter(text, bigint, text, text, integer)
  from public, anon, authenticated;
revoke execute on function public.request_assessment_report(uuid) from public, anon, service_role;

grant execute on function public.pgmq_send(text, jsonb, integer) to service_role;
grant execute on function public.pgmq_read(text, integer, integer) to service_role;
grant execute on function public.pgmq_archive(text, bigint) to service_role;
grant execute on function public.pgmq_delete(text, bigint) to service_role;
grant execute on function public.pgmq_metrics(text) to service_role;
grant execute on function public.pgmq_dead_letter(text, bigint, text, text, integer) to service_role;
grant execute on function public.request_assessment_report(uuid) to authenticated;
