import { emailLocales, emailTemplateNames } from "@balansity/emails/catalog";
import * as z from "zod";
import { emailMessageSchema } from "./catalog.ts";
import { type QueueTransport, toMsgId } from "./queue-transport.ts";
import { validateInput } from "./validate-input.ts";

/** What {@link queueTestEmail} takes: an address, a template, a language (default ru). */
export const testEmailInputSchema = z.strictObject({
  to: emailMessageSchema.shape.to,
  template: z.enum(emailTemplateNames, { error: `must be one of ${emailTemplateNames.join(", ")}` }),
  locale: z.enum(emailLocales, { error: `must be one of ${emailLocales.join(", ")}` }).default("ru"),
});

export type TestEmailInput = z.input<typeof testEmailInputSchema>;

/**
 * Queues one email of a template, filled with the template's example variables, through
 * `public.console_queue_test_email`: the operator console's "send a test email". Browser-safe; the
 * database accepts the call from an operator's session (JWT role operator, from the access token
 * hook, and app_metadata.role = operator) or service_role and refuses everyone else with SQLSTATE 42501.
 *
 * ### Examples
 * ```ts
 * import { queueTestEmail } from "@balansity/queues";
 * import { supabaseTransport } from "@balansity/queues/supabase";
 *
 * const { msgId } = await queueTestEmail(supabaseTransport(supabase), {
 *   to: "me@example.com",
 *   template: "report_ready",
 *   locale: "en",
 * });
 * ```
 *
 * @throws {InvalidMessageError} naming every bad field; nothing is sent.
 * @throws {QueueRpcError} `reason: "permission_denied"` for a caller who is not an operator.
 */
export async function queueTestEmail(
  transport: QueueTransport,
  input: TestEmailInput,
): Promise<{ readonly msgId: number }> {
  const checked = validateInput("console_queue_test_email", testEmailInputSchema, input);
  const result = await transport.call("console_queue_test_email", {
    to_address: checked.to,
    template: checked.template,
    locale: checked.locale,
  });
  return { msgId: toMsgId("console_queue_test_email", result) };
}
