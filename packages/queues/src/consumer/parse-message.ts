import { deadLetterSchema, type QueueName, queueCatalog } from "../catalog.ts";
import { describeFieldIssue, type FieldIssue } from "../field-issues.ts";
import { type LegacyQueueMessage, legacyQueueCatalog } from "../legacy-catalog.ts";
import { checkTemplateVariables } from "../template-variables.ts";
import { checkInput } from "../validate-input.ts";
import {
  type ConsumerQueueName,
  consumerQueueNames,
  isQueueName,
  type MessageOf,
} from "./consumer-queues.ts";

/** The outcome of {@link parseMessage}. */
export type ParsedMessage<Q extends ConsumerQueueName> =
  | { readonly ok: true; readonly queue: Q; readonly message: MessageOf<Q> }
  | {
      readonly ok: false;
      readonly queue: Q;
      /** One sentence per problem: `email_queue message: "to" must be an email address`. */
      readonly issues: readonly string[];
      readonly fields: readonly FieldIssue[];
    };

/**
 * Checks a message read from `queue` against the queue's schema (`deadLetterSchema` for a
 * dead-letter queue); for `email_queue` also the template's variables. Never throws for a bad
 * message: an invalid one is for the dead-letter queue, with `issues` as the reason.
 *
 * ### Examples
 * ```ts
 * const parsed = parseMessage("email_queue", record.message);
 * if (!parsed.ok) {
 *   await moveToDeadLetter(pool, "email_queue", record.msgId, { code: "invalid_message", message: parsed.issues.join("; ") }, record.readCount);
 * } else {
 *   await send(parsed.message); // typed: QueueMessage<"email_queue">
 * }
 * ```
 */
export function parseMessage<Q extends ConsumerQueueName>(queue: Q, raw: unknown): ParsedMessage<Q> {
  if (!consumerQueueNames.includes(queue)) {
    throw new TypeError(
      `parseMessage: "${String(queue)}" is not a queue of the catalog (${consumerQueueNames.join(", ")})`,
    );
  }
  const schema = isQueueName(queue) ? queueCatalog[queue].schema : deadLetterSchema;
  const checked = checkInput(schema, raw);
  const fields = checked.ok ? [] : [...checked.fields];
  if (queue === "email_queue" && typeof raw === "object" && raw !== null) {
    const { template, variables } = raw as { readonly template?: unknown; readonly variables?: unknown };
    fields.push(...checkTemplateVariables(template, variables, { unknown: "accept" }));
  }
  if (checked.ok && fields.length === 0) {
    return { ok: true, queue, message: checked.value as MessageOf<Q> };
  }
  const subject = `${queue} message`;
  return {
    ok: false,
    queue,
    issues: fields.map((field) => describeFieldIssue(subject, field)),
    fields,
  };
}

/** The outcome of {@link parseLegacyMessage}. */
export type ParsedLegacyMessage<Q extends QueueName> =
  | { readonly ok: true; readonly queue: Q; readonly message: LegacyQueueMessage<Q> }
  | {
      readonly ok: false;
      readonly queue: Q;
      readonly issues: readonly string[];
      readonly fields: readonly FieldIssue[];
    };

/**
 * Checks a seed-era message (no `version`: `isLegacyMessage`) against the seed-era shape of `queue`
 * (`legacyQueueCatalog`). Never throws for a bad message; `issues` name the fields, as
 * {@link parseMessage} does.
 *
 * ### Examples
 * ```ts
 * if (isLegacyMessage(record.message)) {
 *   const parsed = parseLegacyMessage("email_queue", record.message);
 *   if (parsed.ok) parsed.message.template; // the seed-era template name
 * }
 * ```
 */
export function parseLegacyMessage<Q extends QueueName>(queue: Q, raw: unknown): ParsedLegacyMessage<Q> {
  const schema = legacyQueueCatalog[queue];
  if (!schema) {
    throw new TypeError(`parseLegacyMessage: "${String(queue)}" is not a queue of the catalog`);
  }
  const checked = checkInput(schema, raw);
  if (checked.ok) return { ok: true, queue, message: checked.value as LegacyQueueMessage<Q> };
  const subject = `${queue} message (seed-era shape)`;
  return {
    ok: false,
    queue,
    issues: checked.fields.map((field) => describeFieldIssue(subject, field)),
    fields: checked.fields,
  };
}
