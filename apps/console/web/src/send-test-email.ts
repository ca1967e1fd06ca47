import type { EmailLocale, EmailTemplateName } from "@balansity/emails";
import type { SupabaseClient } from "@supabase/supabase-js";

/** Queues a test email through @balansity/queues' browser producer (console_queue_test_email). */
export async function sendTestEmail(
  supabase: SupabaseClient,
  input: { readonly to: string; readonly template: EmailTemplateName; readonly locale: EmailLocale },
): Promise<number> {
  const { data, error } = await supabase.rpc("console_queue_test_email", {
    to_address: input.to,
    template: input.template,
    locale: input.locale,
  });
  if (error) throw new Error(error.message);
  return Number(data);
}
