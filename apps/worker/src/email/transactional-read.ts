import type { EmailTemplateName } from "@balansity/emails";
import { emailPriorities, emailSendTiers } from "@balansity/queues";
import { archiveAndRead, type QueueRecord, read } from "@balansity/queues/consumer";
import type { ReadPolicy } from "../consumer/read-policy.ts";

/** Tier 0 of emailSendTiers: the templates the fallback SMTP account sends while the primary cannot. */
export const transactionalTemplates = (Object.keys(emailSendTiers) as EmailTemplateName[]).filter(
  (template) => emailSendTiers[template] === 0,
);

/** Whether an email goes through the fallback while the primary is impaired (tier 0, or priority 1). */
export function isTransactional(message: { template: string; priority?: number | undefined }): boolean {
  return (
    message.priority === emailPriorities.high || emailSendTiers[message.template as EmailTemplateName] === 0
  );
}

/**
 * Reads only transactional email (priority 1, then each tier-0 template), oldest first within each: what
 * the email queue reads while the primary SMTP account is paused and the fallback sends. The rest is
 * not read at all (no attempt spent) and waits for the primary. One conditional `pgmq.read` per
 * condition until the batch is full (at most 1 + the tier-0 templates, only during a failover); the
 * first archives finished messages in the same statement.
 */
export const transactionalReadPolicy: ReadPolicy = {
  read: async (db, { vt, qty, archive }) => {
    const conditions = [
      { priority: emailPriorities.high },
      ...transactionalTemplates.map((template) => ({ template })),
    ];
    const records: QueueRecord[] = [];
    let toArchive = archive;
    for (const conditional of conditions) {
      if (records.length >= qty) break;
      const options = { vt, qty: qty - records.length, conditional };
      const batch =
        toArchive.length > 0
          ? await archiveAndRead(db, "email_queue", toArchive, options)
          : await read(db, "email_queue", options);
      toArchive = [];
      records.push(...batch);
    }
    return { records };
  },
};
