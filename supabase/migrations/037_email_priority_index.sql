-- The worker reads high-priority emails first: pgmq.read(..., conditional => '{"priority": 1}') before
-- every plain read. Without an index that read walks the whole backlog testing `message @> …` row by row
-- (2.9 to 4.2 ms with 10,000 normal emails waiting, against 0.4 ms: bench/RESULTS.md, email-pipeline).
-- A partial index on exactly that predicate keeps it as cheap as a plain read.
create index if not exists q_email_queue_high_priority_idx
  on pgmq.q_email_queue (msg_id)
  where message @> '{"priority": 1}';

comment on index pgmq.q_email_queue_high_priority_idx is
  'High-priority emails in msg_id order, for the worker''s priority-first read (see 031 and apps/worker).';
