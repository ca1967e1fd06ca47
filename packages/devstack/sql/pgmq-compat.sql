-- pgmq-compat.sql: the project's own pgmq-compatible SQL.
--
-- What it is: a plain-SQL implementation of the pgmq message queue API, written from pgmq's public
-- documentation and function signatures. It follows the API of pgmq 1.5.1 (what Supabase ships):
-- the same schema (`pgmq`), the same tables per queue (`pgmq.q_<queue>`, `pgmq.a_<queue>`), the same
-- composite types and the same function names, arguments and return types, so code written against
-- it runs unchanged on the real extension. Nothing newer than 1.5.x is provided (no
-- enable_notify_insert, no grouped reads, no array set_vt).
--
-- Where it is used: LOCAL DEVELOPMENT AND TESTS ONLY. The devstack installs it into a database when
-- the server has no `pgmq` extension. It is never applied to Supabase (Cloud or self-hosted): there
-- the real extension runs, and a migration must never create these objects itself.
--
-- Installing it twice is harmless: every object is created only if absent, or replaced.
-- Grants: as the extension does, only pg_monitor gets read access; everything else is left to the
-- migrations. No function here is security definer (each runs with its caller's rights).
--
-- Queue names: exactly what pgmq 1.5.1 accepts. A name may hold any character except `$`, `;`, `'`
-- and the sequence `--` (format_table_name refuses those in every function); queue tables are named
-- in lower case (`QueueCased` -> pgmq.q_queuecased, `queue-hyphened` -> pgmq."q_queue-hyphened");
-- creating a queue also refuses names of 48 characters or more (validate_queue_name). The error texts
-- are pgmq 1.5.1's, word for word, so a message seen locally is the one Supabase shows.
--
-- Known differences from pgmq 1.5.1 (none changes what a caller can do, or sees on success):
--   * partitioned queues (pg_partman) are not supported: create_partitioned and
--     convert_archive_partitioned raise feature_not_supported; detach_archive has no extension to
--     detach the archive from and only checks that the archive exists.
--   * creating and dropping a queue take a transaction-level advisory lock (as pgmq does from 1.5.2).
--   * read, read_with_poll and the array forms of archive/delete return rows ordered by msg_id.
--   * purge_queue deletes rows instead of truncating (same count, no exclusive table lock).
--   * send_batch sends one message per element of msgs; pgmq 1.5.1 also sends a message with a null
--     body for each header beyond the last message.

create schema if not exists pgmq;

-- Queues and what is known about them.
create table if not exists pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null,
  is_unlogged boolean not null,
  created_at timestamp with time zone default now() not null
);

-- Like the extension: pg_monitor may read every queue, archive and sequence (also those created later
-- by this role). Nothing is granted to public; functions keep PostgreSQL's default execute for public,
-- as in the extension, but without usage on the schema no other role can reach them. The migrations
-- grant usage and execute to the roles that need them, as on Supabase.
grant usage on schema pgmq to pg_monitor;
grant select on all tables in schema pgmq to pg_monitor;
grant select on all sequences in schema pgmq to pg_monitor;
alter default privileges in schema pgmq grant select on tables to pg_monitor;
alter default privileges in schema pgmq grant select on sequences to pg_monitor;

-- Composite types: created only when absent (create type has no "or replace").
do $types$
begin
  if to_regtype('pgmq.message_record') is null then
    create type pgmq.message_record as (
      msg_id bigint,
      read_ct integer,
      enqueued_at timestamp with time zone,
      vt timestamp with time zone,
      message jsonb,
      headers jsonb
    );
  end if;

  if to_regtype('pgmq.queue_record') is null then
    create type pgmq.queue_record as (
      queue_name varchar,
      is_partitioned boolean,
      is_unlogged boolean,
      created_at timestamp with time zone
    );
  end if;

  if to_regtype('pgmq.metrics_result') is null then
    create type pgmq.metrics_result as (
      queue_name text,
      queue_length bigint,
      newest_msg_age_sec integer,
      oldest_msg_age_sec integer,
      total_messages bigint,
      scrape_time timestamp with time zone,
      queue_visible_length bigint
    );
  end if;
end
$types$;

------------------------------------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------------------------------------

-- Refuses a name too long for pgmq's table and index names; called when a queue is created. The limit
-- and the text are pgmq 1.5.1's: 48 characters or more are refused, so 47 is the longest name.
create or replace function pgmq.validate_queue_name(queue_name text)
returns void
language plpgsql
as $$
begin
  if length(queue_name) >= 48 then
    raise exception 'queue name is too long, maximum length is 48 characters';
  end if;
end;
$$;

-- The table name of a queue: prefix 'q' for the queue, 'a' for its archive, in lower case. Every
-- function starts here, so `$`, `;`, `'` and `--` are refused before any dynamic SQL (which quotes
-- the name with %I as well).
create or replace function pgmq.format_table_name(queue_name text, prefix text)
returns text
language plpgsql
as $$
begin
  if queue_name ~ '[$;'']|--' then
    raise exception 'queue name contains invalid characters: $, ;, --, or \''';
  end if;
  return lower(prefix || '_' || queue_name);
end;
$$;

------------------------------------------------------------------------------------------------------
-- Queue management
------------------------------------------------------------------------------------------------------

-- Shared by create / create_unlogged: the queue table (logged or not), its archive and the meta row.
create or replace function pgmq._create_queue(queue_name text, p_unlogged boolean)
returns void
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  -- as in pgmq: the character check (format_table_name, above) comes before the length check
  perform pgmq.validate_queue_name(queue_name);
  -- serialise concurrent creates of the same queue
  perform pg_advisory_xact_lock(hashtext('pgmq.queue_' || queue_name));

  execute format(
    $q$
    create %s table if not exists pgmq.%I (
      msg_id bigint primary key generated always as identity,
      read_ct integer default 0 not null,
      enqueued_at timestamp with time zone default now() not null,
      vt timestamp with time zone not null,
      message jsonb,
      headers jsonb
    )
    $q$,
    case when p_unlogged then 'unlogged' else '' end,
    qtable
  );

  execute format(
    $q$
    create table if not exists pgmq.%I (
      msg_id bigint primary key,
      read_ct integer default 0 not null,
      enqueued_at timestamp with time zone default now() not null,
      archived_at timestamp with time zone default now() not null,
      vt timestamp with time zone not null,
      message jsonb,
      headers jsonb
    )
    $q$,
    atable
  );

  execute format('create index if not exists %I on pgmq.%I (vt asc)', qtable || '_vt_idx', qtable);
  execute format(
    'create index if not exists %I on pgmq.%I (archived_at)', 'archived_at_idx_' || queue_name, atable
  );

  insert into pgmq.meta (queue_name, is_partitioned, is_unlogged)
  values (queue_name, false, p_unlogged)
  on conflict do nothing;
end;
$$;

-- Creates a queue (and its archive). Does nothing if it exists.
create or replace function pgmq.create_non_partitioned(queue_name text)
returns void
language plpgsql
as $$
begin
  perform pgmq._create_queue(queue_name, false);
end;
$$;

create or replace function pgmq.create(queue_name text)
returns void
language plpgsql
as $$
begin
  perform pgmq._create_queue(queue_name, false);
end;
$$;

-- Creates a queue whose table is unlogged (faster, emptied after a crash); the archive is logged.
create or replace function pgmq.create_unlogged(queue_name text)
returns void
language plpgsql
as $$
begin
  perform pgmq._create_queue(queue_name, true);
end;
$$;

-- Partitioned queues need pg_partman, which the local stack does not have.
create or replace function pgmq.create_partitioned(
  queue_name text,
  partition_interval text default '10000',
  retention_interval text default '100000'
)
returns void
language plpgsql
as $$
begin
  perform pgmq.format_table_name(queue_name, 'q');
  perform pgmq.validate_queue_name(queue_name);
  raise exception 'partitioned queues are not supported by the local pgmq-compatible SQL'
    using errcode = 'feature_not_supported',
          hint = 'use pgmq.create() locally; partitioned queues need the pgmq extension and pg_partman';
end;
$$;

-- Drops a queue, its archive and its meta row. Like pgmq 1.5.1, a missing queue is an error.
create or replace function pgmq.drop_queue(queue_name text)
returns boolean
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  perform pg_advisory_xact_lock(hashtext('pgmq.queue_' || queue_name));

  if to_regclass(format('pgmq.%I', qtable)) is null then
    raise exception 'relation "pgmq.%" does not exist', qtable
      using errcode = 'undefined_table';
  end if;

  execute format('drop table if exists pgmq.%I', qtable);
  execute format('drop table if exists pgmq.%I', atable);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return true;
end;
$$;

-- The 1.5.1 form with the partitioned flag, deprecated there: warns with pgmq's text, then drops.
create or replace function pgmq.drop_queue(queue_name text, partitioned boolean)
returns boolean
language plpgsql
as $$
begin
  perform pgmq.format_table_name(queue_name, 'q');
  raise warning 'drop_queue(queue_name, partitioned) is deprecated and will be removed in PGMQ v2.0. Use drop_queue(queue_name) instead.';
  perform pgmq.drop_queue(queue_name);
  return true;
end;
$$;

-- On the extension this keeps a queue's archive when the extension is dropped. Without an extension
-- there is nothing to detach from: like pgmq, a missing archive is an error; otherwise nothing to do.
create or replace function pgmq.detach_archive(queue_name text)
returns void
language plpgsql
as $$
declare
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  if to_regclass(format('pgmq.%I', atable)) is null then
    raise exception 'relation "pgmq.%" does not exist', atable
      using errcode = 'undefined_table';
  end if;
end;
$$;

-- Partitioning an archive needs pg_partman, which the local stack does not have.
create or replace function pgmq.convert_archive_partitioned(
  table_name text,
  partition_interval text default '10000',
  retention_interval text default '100000',
  leading_partition integer default 10
)
returns void
language plpgsql
as $$
begin
  perform pgmq.format_table_name(table_name, 'a');
  raise exception 'partitioned archives are not supported by the local pgmq-compatible SQL'
    using errcode = 'feature_not_supported',
          hint = 'partitioned archives need the pgmq extension and pg_partman';
end;
$$;

-- Deletes every message still in the queue (not the archive); returns how many.
create or replace function pgmq.purge_queue(queue_name text)
returns bigint
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  deleted bigint;
begin
  execute format('delete from pgmq.%I', qtable);
  get diagnostics deleted = row_count;
  return deleted;
end;
$$;

create or replace function pgmq.list_queues()
returns setof pgmq.queue_record
language plpgsql
as $$
begin
  return query
  select m.queue_name, m.is_partitioned, m.is_unlogged, m.created_at
  from pgmq.meta m;
end;
$$;

------------------------------------------------------------------------------------------------------
-- Sending
------------------------------------------------------------------------------------------------------

-- The one implementation of send: a message, its headers, and when it becomes visible.
create or replace function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamp with time zone)
returns setof bigint
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute format(
    'insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id',
    qtable
  ) using delay, msg, headers;
end;
$$;

create or replace function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer)
returns setof bigint
language sql
as $$
  select * from pgmq.send(queue_name, msg, headers, clock_timestamp() + make_interval(secs => delay));
$$;

create or replace function pgmq.send(queue_name text, msg jsonb, delay timestamp with time zone)
returns setof bigint
language sql
as $$
  select * from pgmq.send(queue_name, msg, null::jsonb, delay);
$$;

create or replace function pgmq.send(queue_name text, msg jsonb, delay integer)
returns setof bigint
language sql
as $$
  select * from pgmq.send(queue_name, msg, null::jsonb, clock_timestamp() + make_interval(secs => delay));
$$;

create or replace function pgmq.send(queue_name text, msg jsonb, headers jsonb)
returns setof bigint
language sql
as $$
  select * from pgmq.send(queue_name, msg, headers, clock_timestamp());
$$;

create or replace function pgmq.send(queue_name text, msg jsonb)
returns setof bigint
language sql
as $$
  select * from pgmq.send(queue_name, msg, null::jsonb, clock_timestamp());
$$;

-- The one implementation of send_batch: headers[i] goes with msgs[i] (null when headers is shorter).
-- Ids are returned in the order of msgs.
create or replace function pgmq.send_batch(
  queue_name text,
  msgs jsonb[],
  headers jsonb[],
  delay timestamp with time zone
)
returns setof bigint
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute format(
    $q$
    with inserted as (
      insert into pgmq.%I (vt, message, headers)
      select $1, m.message, m.headers
      from unnest($2, coalesce($3, array[]::jsonb[])) with ordinality as m(message, headers, ord)
      where m.ord <= coalesce(cardinality($2), 0)
      order by m.ord
      returning msg_id
    )
    select msg_id from inserted order by msg_id
    $q$,
    qtable
  ) using delay, msgs, headers;
end;
$$;

create or replace function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer)
returns setof bigint
language sql
as $$
  select * from pgmq.send_batch(queue_name, msgs, headers, clock_timestamp() + make_interval(secs => delay));
$$;

create or replace function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamp with time zone)
returns setof bigint
language sql
as $$
  select * from pgmq.send_batch(queue_name, msgs, null::jsonb[], delay);
$$;

create or replace function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer)
returns setof bigint
language sql
as $$
  select * from pgmq.send_batch(
    queue_name, msgs, null::jsonb[], clock_timestamp() + make_interval(secs => delay)
  );
$$;

create or replace function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[])
returns setof bigint
language sql
as $$
  select * from pgmq.send_batch(queue_name, msgs, headers, clock_timestamp());
$$;

create or replace function pgmq.send_batch(queue_name text, msgs jsonb[])
returns setof bigint
language sql
as $$
  select * from pgmq.send_batch(queue_name, msgs, null::jsonb[], clock_timestamp());
$$;

------------------------------------------------------------------------------------------------------
-- Reading
------------------------------------------------------------------------------------------------------

-- The statement behind read and read_with_poll: lock up to $1 visible messages (oldest first, skipping
-- rows another reader holds), hide them for $2 and count the read. $3 filters on message @> $3
-- (no filter when it is null or '{}').
create or replace function pgmq._read_sql(qtable text)
returns text
language sql
immutable
as $$
  select format(
    $q$
    with next_msgs as (
      select msg_id
      from pgmq.%I
      where vt <= clock_timestamp()
        and ($3 is null or $3 = '{}'::jsonb or message @> $3)
      order by msg_id asc
      limit $1
      for update skip locked
    ),
    updated as (
      update pgmq.%I m
      set vt = clock_timestamp() + $2,
          read_ct = m.read_ct + 1
      from next_msgs
      where m.msg_id = next_msgs.msg_id
      returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
    )
    select msg_id, read_ct, enqueued_at, vt, message, headers from updated order by msg_id
    $q$,
    qtable,
    qtable
  );
$$;

-- Reads up to qty messages and makes them invisible for vt seconds.
create or replace function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')
returns setof pgmq.message_record
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute pgmq._read_sql(qtable) using qty, make_interval(secs => vt), conditional;
end;
$$;

-- Like read, but when nothing is visible keeps trying every poll_interval_ms for up to
-- max_poll_seconds; returns as soon as at least one message was read.
create or replace function pgmq.read_with_poll(
  queue_name text,
  vt integer,
  qty integer,
  max_poll_seconds integer default 5,
  poll_interval_ms integer default 100,
  conditional jsonb default '{}'
)
returns setof pgmq.message_record
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  read_sql text := pgmq._read_sql(qtable);
  stop_at timestamp with time zone := clock_timestamp() + make_interval(secs => max_poll_seconds);
begin
  loop
    if clock_timestamp() >= stop_at then
      return;
    end if;
    -- every execute takes a fresh snapshot, so messages committed meanwhile are seen
    return query execute read_sql using qty, make_interval(secs => vt), conditional;
    if found then
      return;
    end if;
    perform pg_sleep(poll_interval_ms::numeric / 1000);
  end loop;
end;
$$;

-- Reads one visible message and deletes it at once.
create or replace function pgmq.pop(queue_name text)
returns setof pgmq.message_record
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute format(
    $q$
    delete from pgmq.%I
    where msg_id = (
      select msg_id
      from pgmq.%I
      where vt <= clock_timestamp()
      order by msg_id asc
      limit 1
      for update skip locked
    )
    returning msg_id, read_ct, enqueued_at, vt, message, headers
    $q$,
    qtable,
    qtable
  );
end;
$$;

-- Makes a message visible again vt seconds from now; returns it (no row when it does not exist).
create or replace function pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
returns setof pgmq.message_record
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute format(
    $q$
    update pgmq.%I
    set vt = clock_timestamp() + $2
    where msg_id = $1
    returning msg_id, read_ct, enqueued_at, vt, message, headers
    $q$,
    qtable
  ) using msg_id, make_interval(secs => vt);
end;
$$;

------------------------------------------------------------------------------------------------------
-- Archiving and deleting
------------------------------------------------------------------------------------------------------

-- Moves messages to the archive table; returns the ids that were moved.
create or replace function pgmq.archive(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  return query execute format(
    $q$
    with moved as (
      delete from pgmq.%I
      where msg_id = any($1)
      returning msg_id, vt, read_ct, enqueued_at, message, headers
    ),
    archived as (
      insert into pgmq.%I (msg_id, vt, read_ct, enqueued_at, message, headers)
      select msg_id, vt, read_ct, enqueued_at, message, headers
      from moved
      returning msg_id
    )
    select msg_id from archived order by msg_id
    $q$,
    qtable,
    atable
  ) using msg_ids;
end;
$$;

-- Moves one message to the archive; false when it was not in the queue.
create or replace function pgmq.archive(queue_name text, msg_id bigint)
returns boolean
language plpgsql
as $$
begin
  return exists (select 1 from pgmq.archive(queue_name, array[msg_id]));
end;
$$;

-- Deletes messages for good; returns the ids that were deleted.
create or replace function pgmq.delete(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute format(
    $q$
    with deleted as (
      delete from pgmq.%I where msg_id = any($1) returning msg_id
    )
    select msg_id from deleted order by msg_id
    $q$,
    qtable
  ) using msg_ids;
end;
$$;

-- Deletes one message; false when it was not in the queue.
create or replace function pgmq.delete(queue_name text, msg_id bigint)
returns boolean
language plpgsql
as $$
begin
  return exists (select 1 from pgmq.delete(queue_name, array[msg_id]));
end;
$$;

------------------------------------------------------------------------------------------------------
-- Metrics
------------------------------------------------------------------------------------------------------

-- Queue length, visible length, message ages (seconds, null when empty) and messages ever sent.
create or replace function pgmq.metrics(queue_name text)
returns pgmq.metrics_result
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  seq text;
  result pgmq.metrics_result;
begin
  -- the identity sequence of msg_id; raises "relation does not exist" for a missing queue
  seq := pg_get_serial_sequence(format('pgmq.%I', qtable), 'msg_id');

  execute format(
    $q$
    with q_summary as (
      select
        count(*) as queue_length,
        count(*) filter (where vt <= now()) as queue_visible_length,
        extract(epoch from (now() - max(enqueued_at)))::integer as newest_msg_age_sec,
        extract(epoch from (now() - min(enqueued_at)))::integer as oldest_msg_age_sec,
        now() as scrape_time
      from pgmq.%I
    ),
    sent as (
      select case when is_called then last_value else 0 end as total_messages
      from %s
    )
    select
      $1::text,
      q_summary.queue_length,
      q_summary.newest_msg_age_sec,
      q_summary.oldest_msg_age_sec,
      sent.total_messages,
      q_summary.scrape_time,
      q_summary.queue_visible_length
    from q_summary, sent
    $q$,
    qtable,
    seq
  ) into result using queue_name;
  return result;
end;
$$;

create or replace function pgmq.metrics_all()
returns setof pgmq.metrics_result
language plpgsql
as $$
declare
  q record;
begin
  for q in select m.queue_name from pgmq.meta m loop
    return next pgmq.metrics(q.queue_name);
  end loop;
end;
$$;
