import { emailSendTiers } from "@balansity/queues";
import type { SupabaseClient } from "@supabase/supabase-js";
import { z } from "zod";

/** A console RPC failed: `code` is the SQLSTATE (42501 = not an operator) or the HTTP failure. */
export class ConsoleApiError extends Error {
  readonly code: string;
  constructor(rpc: string, code: string, message: string) {
    super(`${rpc}: ${message}`);
    this.name = "ConsoleApiError";
    this.code = code;
  }
}

const count = z.coerce.number();
const timestamp = z.string();
const nullableText = z.string().nullable();

export const queueOverviewRow = z.object({
  queue_name: z.string(),
  depth: count,
  oldest_msg_age_seconds: count.nullable(),
  dlq_depth: count.nullable(),
  processed_last_hour: count.nullable(),
});
export type QueueOverviewRow = z.infer<typeof queueOverviewRow>;

export const queueHistoryRow = z.object({
  sampled_at: timestamp,
  queue_name: z.string(),
  depth: count,
  processed_per_minute: count.nullable(),
});
export type QueueHistoryRow = z.infer<typeof queueHistoryRow>;

export const peekedMessageRow = z.object({
  msg_id: count,
  enqueued_at: timestamp,
  read_ct: count,
  vt: timestamp,
  message: z.unknown(),
});
export type PeekedMessageRow = z.infer<typeof peekedMessageRow>;

export const deadLetterRow = z.object({
  msg_id: count,
  enqueued_at: timestamp,
  error_code: nullableText,
  error_message: nullableText,
  attempts: count.nullable(),
  payload: z.unknown(),
});
export type DeadLetterRow = z.infer<typeof deadLetterRow>;

export const cronJobRow = z.object({
  jobname: z.string(),
  schedule: z.string(),
  active: z.boolean(),
  source: z.string(),
  last_run_at: timestamp.nullable(),
  last_status: nullableText,
  last_message: nullableText,
  failures_24h: count.nullable(),
});
export type CronJobRow = z.infer<typeof cronJobRow>;

export const cronRunRow = z.object({
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  status: nullableText,
  message: nullableText,
});
export type CronRunRow = z.infer<typeof cronRunRow>;

/** Email deliveries: the columns of automation.email_deliveries as the RPC returns them. */
export const emailDeliveryRow = z.record(z.string(), z.unknown());
export type EmailDeliveryRow = z.infer<typeof emailDeliveryRow>;

/** The send budget (console_email_budget, 055): one row per sending account, or one with no account. */
export const emailBudgetRow = z.object({
  account: nullableText,
  send_limit: count.nullable(),
  window_seconds: count.nullable(),
  sent_in_window: count.nullable(),
  remaining: count.nullable(),
  next_slot_at: timestamp.nullable(),
  waiting_tier_0: count,
  waiting_tier_1: count,
  waiting_tier_2: count,
  waiting_for_budget: count,
  waiting_for_mailbox: count,
  recipient_limit_per_minute: count,
});
export type EmailBudgetRow = z.infer<typeof emailBudgetRow>;

export const reportRow = z.object({
  id: z.string(),
  assessment_id: z.string(),
  user_id: z.string(),
  storage_path: z.string(),
  size_bytes: count,
  created_at: timestamp,
});
export type ReportRow = z.infer<typeof reportRow>;

/** Which dead letters an action applies to: some ids, or all (optionally of one error code). */
export type DeadLetterSelection =
  | { readonly msgIds: readonly number[] }
  | { readonly all: true; readonly errorCode?: string | undefined };

/** The console RPCs of migration 041, called through supabase-js with the operator's session. */
export interface ConsoleApi {
  queueOverview(): Promise<QueueOverviewRow[]>;
  queueHistory(queueName: string, hours: number): Promise<QueueHistoryRow[]>;
  peekMessages(queueName: string, maxCount?: number): Promise<PeekedMessageRow[]>;
  deadLetters(queueName: string, search?: string): Promise<DeadLetterRow[]>;
  retryDeadLetters(queueName: string, selection: DeadLetterSelection): Promise<number>;
  discardDeadLetters(queueName: string, selection: DeadLetterSelection): Promise<number>;
  cronJobs(): Promise<CronJobRow[]>;
  cronRuns(jobname: string): Promise<CronRunRow[]>;
  emailDeliveries(search?: string): Promise<EmailDeliveryRow[]>;
  emailBudget(): Promise<EmailBudgetRow[]>;
  reports(): Promise<ReportRow[]>;
  regenerateReport(assessmentId: string): Promise<number>;
}

type RpcClient = Pick<SupabaseClient, "rpc">;

async function call<T extends z.ZodType>(
  client: RpcClient,
  rpc: string,
  args: Record<string, unknown>,
  schema: T,
): Promise<z.infer<T>> {
  const { data, error, status } = await client.rpc(rpc, args);
  if (error) throw new ConsoleApiError(rpc, error.code || `http_${status}`, error.message);
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ConsoleApiError(rpc, "unexpected_response", z.prettifyError(parsed.error));
  }
  return parsed.data;
}

function selectionArgs(selection: DeadLetterSelection): Record<string, unknown> {
  if ("msgIds" in selection) return { msg_ids: selection.msgIds };
  return selection.errorCode ? { error_code: selection.errorCode } : {};
}

export function consoleApi(client: RpcClient): ConsoleApi {
  return {
    queueOverview: () => call(client, "console_queue_overview", {}, z.array(queueOverviewRow)),
    queueHistory: (queueName, hours) =>
      call(client, "console_queue_history", { queue_name: queueName, hours }, z.array(queueHistoryRow)),
    peekMessages: (queueName, maxCount = 50) =>
      call(
        client,
        "console_peek_messages",
        { queue_name: queueName, max_count: maxCount },
        z.array(peekedMessageRow),
      ),
    deadLetters: (queueName, search) =>
      call(
        client,
        "console_dead_letters",
        { queue_name: queueName, ...(search ? { search } : {}) },
        z.array(deadLetterRow),
      ),
    retryDeadLetters: (queueName, selection) =>
      call(
        client,
        "console_retry_dead_letters",
        { queue_name: queueName, ...selectionArgs(selection) },
        count,
      ),
    discardDeadLetters: (queueName, selection) =>
      call(
        client,
        "console_discard_dead_letters",
        { queue_name: queueName, ...selectionArgs(selection) },
        count,
      ),
    cronJobs: () => call(client, "console_cron_jobs", {}, z.array(cronJobRow)),
    cronRuns: (jobname) => call(client, "console_cron_runs", { jobname }, z.array(cronRunRow)),
    emailDeliveries: (search) =>
      call(client, "console_email_deliveries", search ? { search } : {}, z.array(emailDeliveryRow)),
    // The worker's template -> tier map, so the waiting emails are counted per tier as it orders them.
    emailBudget: () =>
      call(client, "console_email_budget", { tiers: emailSendTiers }, z.array(emailBudgetRow)),
    reports: () => call(client, "console_reports", {}, z.array(reportRow)),
    regenerateReport: (assessmentId) =>
      call(client, "console_regenerate_report", { assessment_id: assessmentId }, count),
  };
}
