import type { Database } from "@balansity/db";
import { type Kysely, sql } from "kysely";

/** What public.apply_payment_notification (048) decided. */
export interface ApplyOutcome {
  readonly outcome: "applied" | "unchanged" | "ignored" | "duplicate" | "refused";
  readonly reason?: string;
  readonly payment_id?: string | null;
  readonly status?: string;
}

/**
 * Applies what the provider's API said about a payment or a refund through the one SQL function
 * that changes payment statuses (the yookassa-webhook Edge Function calls the same one): once per
 * provider event; a refusal (another amount, a status that contradicts ours) changes nothing and is
 * recorded in automation.payment_notifications.
 */
export async function applyPaymentNotification(
  db: Kysely<Database>,
  args: { provider: string; event: string; objectId: string; apiObject: Record<string, unknown> },
): Promise<ApplyOutcome> {
  const { rows } = await sql<{ result: ApplyOutcome }>`
    select public.apply_payment_notification(
      ${args.provider}, ${args.event}, ${args.objectId}, ${JSON.stringify(args.apiObject)}::jsonb
    ) as result`.execute(db);
  const result = rows[0]?.result;
  if (!result) throw new Error("apply_payment_notification returned nothing");
  return result;
}
