import type { Database } from "@balansity/db";
import { CompiledQuery, type Kysely, sql } from "kysely";
import { MARK_SENT_SQL, type SentRecord, sentRecordsParameters } from "./sent-records.ts";
import { TurnBatcher } from "./turn-batcher.ts";

export type ClaimResult = "claimed" | "already_sent" | "in_progress";

const now = sql<Date>`now()`;
const leaseEnd = (seconds: number) => sql<Date>`now() + make_interval(secs => ${seconds})`;

export interface DeliveryClaim {
  readonly idempotencyKey: string;
  readonly msgId: string;
  readonly template: string;
  readonly recipient: string;
  readonly leaseSeconds: number;
}

/**
 * The delivery log of the email processor. Claims and "sent" records made during one event-loop turn
 * (a batch of messages reaching the same step together) go to the database as one statement each,
 * instead of one per email. A "sent" record goes at the end of the turn the SMTP reply arrives in,
 * never behind a batch still being written: until it commits, a crash makes the email a resend.
 */
export class EmailDeliveries {
  readonly #db: Kysely<Database>;
  readonly #claims: TurnBatcher<DeliveryClaim, ClaimResult>;
  readonly #sent: TurnBatcher<SentRecord, void>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#claims = new TurnBatcher((claims) => claimDeliveries(db, claims));
    this.#sent = new TurnBatcher(
      async (records) => {
        await markDeliveriesSent(db, records);
        return records.map(() => undefined);
      },
      { groupCommit: false },
    );
  }

  /**
   * Claims the right to send the email with this idempotency key, for `leaseSeconds`: a new key is
   * inserted; a failed or expired attempt is taken over; a sent one or one another worker is sending
   * right now is left alone. No connection is held while SMTP talks. Taking over an expired claim that
   * has no result (status still `sending`: its worker died or lost the database between SMTP and the
   * record) counts a resend: the server may already have the email, and gets it again with the same
   * Message-ID.
   */
  claim(delivery: DeliveryClaim): Promise<ClaimResult> {
    return this.#claims.add(delivery);
  }

  /** Records the server's acceptance: from now on no retry sends this email again. */
  markSent(
    idempotencyKey: string,
    smtp: { messageId: string; response: string },
    transport: "primary" | "fallback" = "primary",
  ): Promise<void> {
    return this.#sent.add({ idempotencyKey, messageId: smtp.messageId, response: smtp.response, transport });
  }

  /** Extends this worker's claim while a slow send is still talking to the server. */
  renewLease(idempotencyKey: string, leaseSeconds: number): Promise<void> {
    return renewDeliveryLease(this.#db, idempotencyKey, leaseSeconds);
  }

  /** Records a failed attempt and frees the key for the next one. */
  markFailed(idempotencyKey: string, error: string): Promise<void> {
    return markDeliveryFailed(this.#db, idempotencyKey, error);
  }
}

/** {@link EmailDeliveries.claim} for a batch, in two statements at most; one result per claim. */
async function claimDeliveries(
  db: Kysely<Database>,
  claims: readonly DeliveryClaim[],
): Promise<ClaimResult[]> {
  // One row per key: ON CONFLICT cannot touch a row twice in one statement. A second message with a
  // key this batch already claims is being sent by us right now.
  const firstOfKey = new Map<string, DeliveryClaim>();
  for (const claim of claims)
    if (!firstOfKey.has(claim.idempotencyKey)) firstOfKey.set(claim.idempotencyKey, claim);
  const rows = await db
    .insertInto("automation.email_deliveries")
    .values(
      [...firstOfKey.values()].map((claim) => ({
        idempotency_key: claim.idempotencyKey,
        msg_id: claim.msgId,
        template: claim.template,
        recipient: claim.recipient,
        status: "sending",
        lease_until: leaseEnd(claim.leaseSeconds),
        attempts: 1,
      })),
    )
    .onConflict((conflict) =>
      conflict
        .column("idempotency_key")
        .doUpdateSet((eb) => ({
          status: "sending",
          lease_until: eb.ref("excluded.lease_until"),
          attempts: eb("automation.email_deliveries.attempts", "+", 1),
          resends: sql<number>`automation.email_deliveries.resends + (automation.email_deliveries.status = 'sending')::integer`,
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
    .execute();
  const claimed = new Set(rows.map((row) => row.idempotency_key));
  const others = [...firstOfKey.keys()].filter((key) => !claimed.has(key));
  const sent = new Set<string>();
  if (others.length > 0) {
    const existing = await db
      .selectFrom("automation.email_deliveries")
      .select("idempotency_key")
      .where("idempotency_key", "in", others)
      .where("status", "=", "sent")
      .execute();
    for (const row of existing) sent.add(row.idempotency_key);
  }
  // Only the first claim of a key can have claimed it; the others (and the unclaimed) are told why not.
  return claims.map((claim) => {
    const key = claim.idempotencyKey;
    if (firstOfKey.get(key) === claim && claimed.has(key)) return "claimed";
    return sent.has(key) ? "already_sent" : "in_progress";
  });
}

/** {@link EmailDeliveries.markSent} for a batch, in one statement. */
async function markDeliveriesSent(db: Kysely<Database>, records: readonly SentRecord[]): Promise<void> {
  await db.executeQuery(CompiledQuery.raw(MARK_SENT_SQL, sentRecordsParameters(records)));
}

async function renewDeliveryLease(
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

async function markDeliveryFailed(
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
