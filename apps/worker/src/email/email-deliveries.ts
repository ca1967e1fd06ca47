import type { Database } from "@balansity/db";
import { type Kysely, sql } from "kysely";

export type ClaimResult = "claimed" | "already_sent" | "in_progress";

const now = sql<Date>`now()`;
const leaseEnd = (seconds: number) => sql<Date>`now() + make_interval(secs => ${seconds})`;

/**
 * Claims the right to send the email with this idempotency key, for `leaseSeconds`. One statement:
 * a new key is inserted; a failed or expired attempt is taken over; a sent one or one another worker
 * is sending right now is left alone. No connection is held while SMTP talks.
 */
export async function claimDelivery(
  db: Kysely<Database>,
  delivery: {
    idempotencyKey: string;
    msgId: string;
    template: string;
    recipient: string;
    leaseSeconds: number;
  },
): Promise<ClaimResult> {
  const claimed = await db
    .insertInto("automation.email_deliveries")
    .values({
      idempotency_key: delivery.idempotencyKey,
      msg_id: delivery.msgId,
      template: delivery.template,
      recipient: delivery.recipient,
      status: "sending",
      lease_until: leaseEnd(delivery.leaseSeconds),
      attempts: 1,
    })
    .onConflict((conflict) =>
      conflict
        .column("idempotency_key")
        .doUpdateSet((eb) => ({
          status: "sending",
          lease_until: eb.ref("excluded.lease_until"),
          attempts: eb("automation.email_deliveries.attempts", "+", 1),
          msg_id: eb.ref("excluded.msg_id"),
          updated_at: now,
        }))
        .where((eb) =>
          eb.and([
            eb("automation.email_deliveries.status", "<>", "sent"),
            eb.or([
              eb("automation.email_deliveries.status", "<>", "sending"),
              eb("automation.email_deliveries.lease_until", "<", now),
            ]),
          ]),
        ),
    )
    .returning("idempotency_key")
    .executeTakeFirst();
  if (claimed) return "claimed";
  const existing = await db
    .selectFrom("automation.email_deliveries")
    .select("status")
    .where("idempotency_key", "=", delivery.idempotencyKey)
    .executeTakeFirst();
  return existing?.status === "sent" ? "already_sent" : "in_progress";
}

/** Extends this worker's claim while a slow send is still talking to the server. */
export async function renewDeliveryLease(
  db: Kysely<Database>,
  idempotencyKey: string,
  leaseSeconds: number,
): Promise<void> {
  await db
    .updateTable("automation.email_deliveries")
    .set({ lease_until: leaseEnd(leaseSeconds) })
    .where("idempotency_key", "=", idempotencyKey)
    .where("status", "=", "sending")
    .execute();
}

/** Records the server's acceptance: from now on no retry sends this email again. */
export async function markDeliverySent(
  db: Kysely<Database>,
  idempotencyKey: string,
  smtp: { messageId: string; response: string },
): Promise<void> {
  await db
    .updateTable("automation.email_deliveries")
    .set({
      status: "sent",
      smtp_message_id: smtp.messageId,
      smtp_response: smtp.response.slice(0, 500),
      sent_at: now,
      lease_until: null,
      error: null,
      updated_at: now,
    })
    .where("idempotency_key", "=", idempotencyKey)
    .execute();
}

/** Records a failed attempt and frees the key for the next one. */
export async function markDeliveryFailed(
  db: Kysely<Database>,
  idempotencyKey: string,
  error: string,
): Promise<void> {
  await db
    .updateTable("automation.email_deliveries")
    .set({ status: "failed", error: error.slice(0, 1000), lease_until: null, updated_at: now })
    .where("idempotency_key", "=", idempotencyKey)
    .where("status", "=", "sending")
    .execute();
}
