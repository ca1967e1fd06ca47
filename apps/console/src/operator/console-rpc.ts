import type { OperatorConnection } from "./operator-connection.ts";

// The console's SQL functions (supabase/migrations/041_operator_console.sql), called the same way
// the browser console calls them. All logic lives there; this file only names arguments and turns
// int8 text into numbers (msg ids and counts stay far below 2^53).

export interface QueueOverviewRow {
  readonly queue_name: string;
  readonly depth: number;
  readonly oldest_msg_age_seconds: number | null;
  readonly dlq_depth: number | null;
  readonly processed_last_hour: number;
}

export interface QueueHistoryRow {
  readonly sampled_at: Date;
  readonly queue_name: string;
  readonly depth: number;
  readonly processed_per_minute: number | null;
}

export interface PeekedMessage {
  readonly msg_id: number;
  readonly enqueued_at: Date;
  readonly read_ct: number;
  readonly vt: Date;
  readonly message: unknown;
}

export interface DeadLetterRow {
  readonly msg_id: number;
  readonly enqueued_at: Date;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly attempts: number | null;
  readonly payload: unknown;
}

export interface CronJobRow {
  readonly jobname: string;
  readonly schedule: string;
  readonly active: boolean;
  readonly source: "pg_cron" | "worker";
  readonly last_run_at: Date | null;
  readonly last_status: string | null;
  readonly last_message: string | null;
  readonly failures_24h: number;
}

const toNumber = (value: unknown): number => Number(value);
const toNumberOrNull = (value: unknown): number | null => (value === null ? null : Number(value));

export async function queueOverview(db: OperatorConnection): Promise<QueueOverviewRow[]> {
  const rows = await db.query<Record<string, unknown>>("select * from public.console_queue_overview()");
  return rows.map((row) => ({
    queue_name: String(row.queue_name),
    depth: toNumber(row.depth),
    oldest_msg_age_seconds: toNumberOrNull(row.oldest_msg_age_seconds),
    dlq_depth: toNumberOrNull(row.dlq_depth),
    processed_last_hour: toNumber(row.processed_last_hour),
  }));
}

export async function queueHistory(
  db: OperatorConnection,
  queue: string | null,
  hours: number,
): Promise<QueueHistoryRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    "select * from public.console_queue_history(queue_name => $1::text, hours => $2::integer)",
    [queue, hours],
  );
  return rows.map((row) => ({
    sampled_at: row.sampled_at as Date,
    queue_name: String(row.queue_name),
    depth: toNumber(row.depth),
    processed_per_minute: toNumberOrNull(row.processed_per_minute),
  }));
}

export async function peekMessages(
  db: OperatorConnection,
  queue: string,
  limit: number,
): Promise<PeekedMessage[]> {
  const rows = await db.query<Record<string, unknown>>(
    "select * from public.console_peek_messages(queue_name => $1::text, max_count => $2::integer)",
    [queue, limit],
  );
  return rows.map((row) => ({
    msg_id: toNumber(row.msg_id),
    enqueued_at: row.enqueued_at as Date,
    read_ct: toNumber(row.read_ct),
    vt: row.vt as Date,
    message: row.message,
  }));
}

export async function deadLetters(
  db: OperatorConnection,
  queue: string,
  limit: number,
  search: string | null,
): Promise<DeadLetterRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    "select * from public.console_dead_letters(queue_name => $1::text, max_count => $2::integer, search => $3::text)",
    [queue, limit, search],
  );
  return rows.map((row) => ({
    msg_id: toNumber(row.msg_id),
    enqueued_at: row.enqueued_at as Date,
    error_code: (row.error_code as string | null) ?? null,
    error_message: (row.error_message as string | null) ?? null,
    attempts: toNumberOrNull(row.attempts),
    payload: row.payload,
  }));
}

export async function deadLetterIds(
  db: OperatorConnection,
  queue: string,
  errorCode: string | null,
): Promise<number[]> {
  const rows = await db.query<{ id: string }>(
    "select id from public.console_dead_letter_ids(queue_name => $1::text, error_code => $2::text) as id",
    [queue, errorCode],
  );
  return rows.map((row) => Number(row.id));
}

export async function retryDeadLetters(
  db: OperatorConnection,
  queue: string,
  ids: readonly number[] | null,
  errorCode: string | null,
): Promise<number> {
  const rows = await db.query<{ moved: number }>(
    "select public.console_retry_dead_letters(queue_name => $1::text, msg_ids => $2::bigint[], error_code => $3::text) as moved",
    [queue, ids, errorCode],
  );
  return rows[0]?.moved ?? 0;
}

export async function discardDeadLetters(
  db: OperatorConnection,
  queue: string,
  ids: readonly number[] | null,
  errorCode: string | null,
): Promise<number> {
  const rows = await db.query<{ discarded: number }>(
    "select public.console_discard_dead_letters(queue_name => $1::text, msg_ids => $2::bigint[], error_code => $3::text) as discarded",
    [queue, ids, errorCode],
  );
  return rows[0]?.discarded ?? 0;
}

export async function cronJobs(db: OperatorConnection): Promise<CronJobRow[]> {
  const rows = await db.query<CronJobRow>("select * from public.console_cron_jobs()");
  return rows;
}

export interface CronRunRow {
  readonly started_at: Date | null;
  readonly finished_at: Date | null;
  readonly status: string;
  readonly message: string | null;
}

export async function cronRuns(db: OperatorConnection, job: string, limit: number): Promise<CronRunRow[]> {
  return db.query<CronRunRow>(
    "select * from public.console_cron_runs(jobname => $1::text, max_count => $2::integer)",
    [job, limit],
  );
}

export async function regenerateReport(db: OperatorConnection, assessmentId: string): Promise<number> {
  const rows = await db.query<{ msg_id: string }>(
    "select public.console_regenerate_report(assessment_id => $1::uuid) as msg_id",
    [assessmentId],
  );
  return Number(rows[0]?.msg_id);
}

/** What public.erase_user_data (051) erased, or with dryRun would erase: rows per place, report files. */
export interface ErasedUserData {
  readonly user_id: string;
  readonly dry_run: boolean;
  /** Addresses matched: the profile's and the one given. */
  readonly addresses: number;
  readonly counts: Readonly<Record<string, number>>;
  /** The user's report files (paths in the report store), for the caller to delete. */
  readonly report_paths: readonly string[];
}

export async function eraseUserData(
  db: OperatorConnection,
  userId: string,
  email: string | null,
  dryRun: boolean,
): Promise<ErasedUserData> {
  const rows = await db.query<{ result: ErasedUserData }>(
    "select public.erase_user_data(p_user_id => $1::uuid, p_email => $2, p_dry_run => $3) as result",
    [userId, email, dryRun],
  );
  const result = rows[0]?.result;
  if (!result) throw new Error("erase_user_data returned no row");
  return {
    ...result,
    counts: Object.fromEntries(Object.entries(result.counts).map(([k, v]) => [k, Number(v)])),
  };
}
