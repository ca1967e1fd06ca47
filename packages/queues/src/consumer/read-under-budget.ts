import { z } from "zod";
import { emailSendTiers } from "../email-send-tiers.ts";
import { checkArguments } from "./check-arguments.ts";
import { readQuantitySchema, visibilityTimeoutSchema } from "./consumer-limits.ts";
import { type MsgIds, msgIdsArgument } from "./msg-id-list.ts";
import type { Queryable } from "./queryable.ts";
import { type QueueRecord, toQueueRecord } from "./queue-record.ts";

/** At most `limit` emails in any `windowSeconds` from one sending account. */
export interface SendBudget {
  /** The sending account the window is counted for (shared by every replica sending as it). */
  readonly account: string;
  readonly limit: number;
  readonly windowSeconds: number;
  /**
   * How much longer than the window a slot is kept: the provider counts a message when it arrives, a
   * little after its slot was taken, and that delay varies.
   */
  readonly marginSeconds: number;
}

export interface BudgetRead {
  readonly records: QueueRecord<"email_queue">[];
  /**
   * Set when the budget, not the queue, ended the read: when the next slot frees. Nothing more can
   * be read before then.
   */
  readonly nextSlotAt: Date | undefined;
}

const budgetArguments = z.object({
  account: z.string().min(1, { error: "must not be empty" }),
  limit: z.int().min(1, { error: "must be at least 1" }),
  windowSeconds: z.number().positive({ error: "must be more than 0" }),
  marginSeconds: z.number().min(0, { error: "must be 0 or more" }),
  vt: visibilityTimeoutSchema,
  qty: readQuantitySchema,
});

const tiers = JSON.stringify(emailSendTiers);

/**
 * Reads email_queue under a send budget shared by every worker: archives `archive` (finished
 * messages), then reads at most as many messages as the budget has free slots, taking one for each,
 * in one statement (`public.email_budget_read`, migration 049). Order: tier (`emailSendTiers`), fair
 * share per user in the window, age. Messages the budget leaves are not read: no attempt spent.
 *
 * ### Examples
 * ```ts
 * const budget = { account: "smtp.example.ru/noreply@example.ru", limit: 50, windowSeconds: 900, marginSeconds: 1 };
 * const { records, nextSlotAt } = await readUnderBudget(pool, budget, { vt: 60, qty: 32, archive: [] });
 * ```
 */
export async function readUnderBudget(
  q: Queryable,
  budget: SendBudget,
  options: { readonly vt: number; readonly qty: number; readonly archive: MsgIds },
): Promise<BudgetRead> {
  const args = checkArguments("readUnderBudget", budgetArguments, { ...budget, ...options });
  const archive = msgIdsArgument("readUnderBudget", "email_queue", options.archive);
  const { rows } = await q.query(
    `select msg_id, read_ct, pg_catalog.date_part('epoch', enqueued_at) * 1000 as enqueued_ms,
            pg_catalog.date_part('epoch', vt) * 1000 as vt_ms, message, headers,
            pg_catalog.date_part('epoch', next_slot_at) * 1000 as next_slot_ms
       from public.email_budget_read($1::text, $2::integer, $3::float8, $4::float8, $5::integer, $6::integer, $7::bigint[], $8::jsonb)`,
    [args.account, args.limit, args.windowSeconds, args.marginSeconds, args.vt, args.qty, archive, tiers],
  );
  const records: QueueRecord<"email_queue">[] = [];
  let nextSlotAt: Date | undefined;
  for (const row of rows as { msg_id: unknown; next_slot_ms: unknown }[]) {
    if (row.msg_id === null) {
      if (row.next_slot_ms !== null) nextSlotAt = new Date(Number(row.next_slot_ms));
    } else {
      records.push(toQueueRecord("email_queue", row));
    }
  }
  return { records, nextSlotAt };
}
