import type { EmailLocale, EmailTemplateName } from "@balansity/emails";
import { queueTestEmail } from "@balansity/queues";
import { supabaseTransport } from "@balansity/queues/supabase";
import type { SupabaseClient } from "@supabase/supabase-js";

/**
 * Queues a test email with @balansity/queues' browser producer: the input is checked in the browser
 * (every bad field named) before console_queue_test_email runs with the operator's session.
 */
export async function sendTestEmail(
  supabase: SupabaseClient,
  input: { readonly to: string; readonly template: EmailTemplateName; readonly locale: EmailLocale },
): Promise<number> {
  const { msgId } = await queueTestEmail(supabaseTransport(supabase), input);
  return msgId;
}
