/** One "sent" record of the delivery log: the server's acceptance of the email with this key. */
export interface SentRecord {
  readonly idempotencyKey: string;
  readonly messageId: string;
  readonly response: string;
  /** Which SMTP account accepted it (056). */
  readonly transport: "primary" | "fallback";
}

/**
 * Marks a batch of deliveries sent, in one statement; parameters from {@link sentRecordsParameters}.
 * Plain SQL, so the SMTP thread runs it on its own connection (node-postgres, no kysely) and the main
 * thread through kysely.
 */
export const MARK_SENT_SQL = `
  update automation.email_deliveries as d
  set status = 'sent', smtp_message_id = v.message_id, smtp_response = v.response, sent_at = now(),
      lease_until = null, error = null, updated_at = now(), transport = v.transport
  from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as v(idempotency_key, message_id, response, transport)
  where d.idempotency_key = v.idempotency_key`;

export function sentRecordsParameters(
  records: readonly SentRecord[],
): [string[], string[], string[], string[]] {
  return [
    records.map((record) => record.idempotencyKey),
    records.map((record) => record.messageId),
    records.map((record) => record.response.slice(0, 500)),
    records.map((record) => record.transport),
  ];
}
