import type { Queryable } from "@balansity/queues/consumer";

export type ClaimResult = "claimed" | "already_sent" | "in_progress";

/**
 * Claims the right to send the email with this idempotency key, for `leaseSeconds`. One statement:
 * a new key is inserted; a failed or expired attempt is taken over; a sent one or one another worker
 * is sending right now is left alone. No connection is held while SMTP talks.
 */
export async function claimDelivery(
  db: Queryable,
  delivery: {
    idempotencyKey: string;
    msgId: string;
    template: string;
    recipient: string;
    leaseSeconds: number;
  },
): Promise<ClaimResult> {
  const claimed = await db.query(
    `insert into automation.email_deliveries as d
       (idempotency_key, msg_id, template, recipient, status, lease_until, attempts)
     values ($1, $2, $3, $4, 'sending', now() + make_interval(secs => $5), 1)
     on conflict (idempotency_key) do update
       set status = 'sending', lease_until = excluded.lease_until, attempts = d.attempts + 1,
           msg_id = excluded.msg_id, updated_at = now()
       where d.status <> 'sent' and (d.status <> 'sending' or d.lease_until < now())
     returning 1`,
    [delivery.idempotencyKey, delivery.msgId, delivery.template, delivery.recipient, delivery.leaseSeconds],
  );
  if (claimed.rowCount) return "claimed";
  const existing = await db.query(
    "select status from automation.email_deliveries where idempotency_key = $1",
    [delivery.idempotencyKey],
  );
  return (existing.rows[0] as { status?: string } | undefined)?.status === "sent"
    ? "already_sent"
    : "in_progress";
}

/** Extends this worker's claim while a slow send is still talking to the server. */
export async function renewDeliveryLease(
  db: Queryable,
  idempotencyKey: string,
  leaseSeconds: number,
): Promise<void> {
  await db.query(
    `update automation.email_deliveries set lease_until = now() + make_interval(secs => $2)
      where idempotency_key = $1 and status = 'sending'`,
    [idempotencyKey, leaseSeconds],
  );
}

/** Records the server's acceptance: from now on no retry sends this email again. */
export async function markDeliverySent(
  db: Queryable,
  idempotencyKey: string,
  smtp: { messageId: string; response: string },
): Promise<void> {
  await db.query(
    `update automation.email_deliveries
        set status = 'sent', smtp_message_id = $2, smtp_response = $3, sent_at = now(), lease_until = null,
            error = null, updated_at = now()
      where idempotency_key = $1`,
    [idempotencyKey, smtp.messageId, smtp.response.slice(0, 500)],
  );
}

/** Records a failed attempt and frees the key for the next one. */
export async function markDeliveryFailed(
  db: Queryable,
  idempotencyKey: string,
  error: string,
): Promise<void> {
  await db.query(
    `update automation.email_deliveries
        set status = 'failed', error = $2, lease_until = null, updated_at = now()
      where idempotency_key = $1 and status = 'sending'`,
    [idempotencyKey, error.slice(0, 1000)],
  );
}
