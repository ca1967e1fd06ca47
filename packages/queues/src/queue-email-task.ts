import type { EmailLocale, EmailTemplateName, EmailTemplateVariables } from "@balansity/emails/catalog";
import { emailMessageSchema, type emailPriorities } from "./catalog.ts";
import { InvalidMessageError } from "./errors.ts";
import type { FieldIssue } from "./field-issues.ts";
import { definedArguments, type QueueTransport, toMsgId } from "./queue-transport.ts";
import { checkTemplateVariables } from "./template-variables.ts";
import { checkInput } from "./validate-input.ts";

/** An `email_queue` message as a producer writes it: no `version`; the database fills in the rest. */
export const emailTaskInputSchema = emailMessageSchema
  .omit({ version: true })
  .extend({
    idempotency_key: emailMessageSchema.shape.idempotency_key.optional(),
    priority: emailMessageSchema.shape.priority.optional(),
  })
  .strict();

export type EmailPriority = (typeof emailPriorities)[keyof typeof emailPriorities];

/** What {@link queueEmailTask} takes. `variables` are checked against the template's own schema. */
export interface EmailTaskInput<T extends EmailTemplateName = EmailTemplateName> {
  readonly to: string;
  readonly template: T;
  readonly variables: EmailTemplateVariables<T>;
  /** Overrides the template's subject. */
  readonly subject?: string | null | undefined;
  /** 0 normal (default), 1 high: read first. */
  readonly priority?: EmailPriority | undefined;
  /** Default: the database's choice (Russian unless it knows better). */
  readonly locale?: EmailLocale | undefined;
  /** IANA zone dates are shown in. */
  readonly timezone?: string | undefined;
  /** Makes a repeated call send once; the database makes a random one when left out. */
  readonly idempotency_key?: string | undefined;
  readonly user_id?: string | null | undefined;
}

const SUBJECT = "email_queue message";

/**
 * Every problem with an email task, top-level fields and template variables together; empty when it
 * may be enqueued.
 */
export function checkEmailTask(input: unknown): FieldIssue[] {
  const checked = checkInput(emailTaskInputSchema, input);
  const fields = checked.ok ? [] : [...checked.fields];
  if (typeof input !== "object" || input === null) return fields;
  const { template, variables } = input as { readonly template?: unknown; readonly variables?: unknown };
  return [...fields, ...checkTemplateVariables(template, variables, { unknown: "refuse" })];
}

/**
 * Queues an email: checks the message and the template's variables here, before any network call,
 * then calls `public.queue_email_task` (service_role only: a server, not the browser).
 *
 * ### Examples
 * ```ts
 * import { queueEmailTask } from "@balansity/queues";
 * import { kyselyTransport } from "@balansity/queues/kysely";
 *
 * const { msgId } = await queueEmailTask(kyselyTransport(db), {
 *   to: "anna@example.com",
 *   template: "report_ready",
 *   variables: { assessment_id: id, report_url: "https://app.balansity.ru/reports/42" },
 *   idempotency_key: `report_ready:${id}`,
 * });
 * ```
 *
 * @throws {InvalidMessageError} naming every bad field (`email_queue message: "to" must be an email address`); nothing is sent.
 * @throws {QueueRpcError} when the database refuses the call.
 */
export async function queueEmailTask<T extends EmailTemplateName>(
  transport: QueueTransport,
  input: EmailTaskInput<T>,
): Promise<{ readonly msgId: number }> {
  const fields = checkEmailTask(input);
  if (fields.length > 0) throw new InvalidMessageError(SUBJECT, fields);
  const result = await transport.call(
    "queue_email_task",
    definedArguments({
      to: input.to,
      // No SQL default: null means "the template's subject".
      subject: input.subject ?? null,
      template: input.template,
      variables: input.variables,
      priority: input.priority,
      locale: input.locale,
      timezone: input.timezone,
      idempotency_key: input.idempotency_key,
      user_id: input.user_id,
    }),
  );
  return { msgId: toMsgId("queue_email_task", result) };
}
