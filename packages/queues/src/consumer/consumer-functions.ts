import type { Queryable } from "./queryable.ts";

/**
 * The SQL functions the consumer primitives call besides pgmq's own, with the migration that
 * creates each (pgmq 1.5 itself is checked by whoever lists the queues). Which functions exist is
 * the API allow-list's to say (@balansity/db, api-allow-list.ts); this package does not depend on
 * @balansity/db at run time, so test/consumer-functions.test.ts checks each entry against it.
 */
export const consumerFunctions = {
  "public.pgmq_dead_letter(text, bigint, text, text, integer)": "033_pgmq_rpc_wrappers.sql",
  "public.pgmq_consumer_busy(text, text, integer)": "038_trigger_wakeups.sql",
  "public.pgmq_consumer_waiting(text, text, integer, integer)": "038_trigger_wakeups.sql",
  "public.pgmq_consumer_leave(text, text)": "038_trigger_wakeups.sql",
  "public.pgmq_archive_and_read(text, bigint[], integer, integer, jsonb)":
    "042_consumer_archive_and_read.sql",
  "public.pgmq_first_reads(text, bigint[], integer[])": "045_seed_backlog_and_saved_results.sql",
  "public.pgmq_hand_back(text, bigint[], integer)": "049_email_send_budget.sql",
  "public.email_budget_read(text, integer, double precision, double precision, integer, integer, bigint[], jsonb)":
    "049_email_send_budget.sql",
} as const;

/**
 * Which of {@link consumerFunctions} the database lacks, as `signature (migration)`; empty when a
 * consumer can run. A worker checks this before it starts, so an unapplied migration is named at
 * start-up rather than failing every read.
 *
 * ### Examples
 * ```ts
 * const missing = await missingConsumerFunctions(pool);
 * if (missing.length > 0) throw new Error(`apply the migrations: ${missing.join(", ")}`);
 * ```
 */
export async function missingConsumerFunctions(q: Queryable): Promise<string[]> {
  const signatures = Object.keys(consumerFunctions);
  const { rows } = await q.query(
    "select signature from unnest($1::text[]) as signature where pg_catalog.to_regprocedure(signature) is null",
    [signatures],
  );
  return rows.map((row) => {
    const signature = String((row as { signature: unknown }).signature) as keyof typeof consumerFunctions;
    return `${signature} (${consumerFunctions[signature]})`;
  });
}
