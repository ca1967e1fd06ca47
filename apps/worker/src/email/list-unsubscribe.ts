import { createHmac } from "node:crypto";
import type { EmailTemplateName } from "@balansity/emails/catalog";
import type { UnsubscribeConfig } from "../config/worker-config.ts";

/**
 * The emails a user may turn off: the appointment reminders (profiles.reminder_emails, 054). Every
 * other template is transactional (a confirmation, a receipt, a report the user asked for) and
 * carries no List-Unsubscribe.
 */
export const unsubscribableTemplates: ReadonlySet<EmailTemplateName> = new Set<EmailTemplateName>([
  "appointment_reminder_24h",
  "appointment_reminder_1h",
]);

/** What an unsubscribe link turns off; bound into the token, so a token serves one purpose only. */
export const unsubscribePurpose = "reminders";

/**
 * `<user id>.<base64url HMAC-SHA256(secret, "balansity-unsubscribe\n<purpose>\n<user id>")>`. No
 * expiry: an unsubscribe link must keep working as long as the email exists. The `unsubscribe` Edge
 * Function (supabase/functions/unsubscribe/token.ts) checks the same construction.
 */
export function unsubscribeToken(secret: string, userId: string, purpose = unsubscribePurpose): string {
  const id = userId.toLowerCase();
  const mac = createHmac("sha256", secret)
    .update(`balansity-unsubscribe\n${purpose}\n${id}`)
    .digest("base64url");
  return `${id}.${mac}`;
}

/**
 * The one-click unsubscribe link of an email: `<UNSUBSCRIBE_URL>?token=…` for a reminder to a known
 * user; undefined for other templates, a message without a user, or a worker without UNSUBSCRIBE_URL.
 */
export function unsubscribeUrlFor(
  config: UnsubscribeConfig | undefined,
  template: string,
  userId: string | null | undefined,
): string | undefined {
  if (!config || !userId || !unsubscribableTemplates.has(template as EmailTemplateName)) return undefined;
  const url = new URL(config.url);
  url.searchParams.set("token", unsubscribeToken(config.secret, userId));
  return url.toString();
}

/**
 * RFC 8058 one-click headers for an email with an unsubscribe link (none without one):
 * `List-Unsubscribe: <url>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
 *
 * ### Examples
 * ```ts
 * const url = unsubscribeUrlFor(config.unsubscribe, "appointment_reminder_1h", userId);
 * listUnsubscribeHeaders(url);
 * // { "List-Unsubscribe": "<https://…/functions/v1/unsubscribe?token=…>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" }
 * ```
 */
export function listUnsubscribeHeaders(url: string | undefined): Record<string, string> {
  if (!url) return {};
  return { "List-Unsubscribe": `<${url}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
