import type { Log } from "../_shared/log.ts";
import { verifyUnsubscribeToken } from "./token.ts";

/**
 * The unsubscribe link of reminder emails (`List-Unsubscribe: <…/unsubscribe?token=…>`):
 *
 *   POST  RFC 8058 one-click: body `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as mail
 *         providers send it) → public.unsubscribe_reminder_emails(user id) as service_role → 200.
 *         Idempotent: a second click answers 200 too.
 *   GET   a small page with a button that makes that POST. A GET never unsubscribes: mail scanners
 *         and link previews fetch links nobody clicked.
 *
 * A token that does not verify (malformed, another secret, another purpose, a changed user id) is
 * answered 403 with the same words whatever is wrong with it; a POST without the one-click body 400.
 * The database unreachable: 503, so a provider's one-click retries. Logs carry outcomes, never the
 * token or the user.
 */

/** What the links turn off; the worker signs the same purpose. */
export const purpose = "reminders";

export interface UnsubscribeResult {
  readonly outcome: "unsubscribed" | "already_off" | "unknown_user";
}

export interface UnsubscribeDependencies {
  readonly secret: string;
  /** public.unsubscribe_reminder_emails through the project's API, as service_role. */
  readonly unsubscribe: (userId: string) => Promise<UnsubscribeResult>;
  readonly log: Log;
}

const MAX_BODY_BYTES = 8 * 1024;

export function createUnsubscribeHandler(deps: UnsubscribeDependencies) {
  return async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "POST") {
      return page(405, "Method not allowed", "—", { allow: "GET, POST" });
    }
    const url = new URL(request.url);
    const userId = await verifyUnsubscribeToken(deps.secret, url.searchParams.get("token") ?? "", purpose);
    if (!userId) {
      deps.log("warn", "unsubscribe refused: the link does not verify", { reason: "invalid_token" });
      return page(403, "Ссылка недействительна", "This unsubscribe link is not valid.");
    }

    if (request.method === "GET") return confirmationPage(url);

    if (!(await isOneClick(request))) {
      deps.log("warn", "unsubscribe refused: not a one-click request", { reason: "not_one_click" });
      return page(400, "Неверный запрос", "Expected the body List-Unsubscribe=One-Click.");
    }
    let result: UnsubscribeResult;
    try {
      result = await deps.unsubscribe(userId);
    } catch (error) {
      deps.log("error", "unsubscribe failed: the database could not be asked", {
        reason: (error as { code?: string }).code ?? "error",
      });
      return page(503, "Попробуйте позже", "Please try again later.");
    }
    deps.log("info", "reminder emails turned off", { outcome: result.outcome });
    return page(
      200,
      "Напоминания отключены",
      "Reminder emails are turned off. Confirmations and receipts still arrive; reminders can be turned on again in your profile.",
    );
  };
}

/** `List-Unsubscribe=One-Click` in a form body of either encoding RFC 8058 allows. */
async function isOneClick(request: Request): Promise<boolean> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) return false;
  try {
    const form = await request.formData();
    return form.get("List-Unsubscribe") === "One-Click";
  } catch {
    return false;
  }
}

function confirmationPage(url: URL): Response {
  const action = escapeHtml(`${url.pathname}${url.search}`);
  return html(
    200,
    `<h1>Отписаться от напоминаний?</h1>
<p>Unsubscribe from appointment reminder emails? Confirmations and receipts still arrive.</p>
<form method="post" action="${action}">
  <input type="hidden" name="List-Unsubscribe" value="One-Click">
  <button type="submit">Отписаться / Unsubscribe</button>
</form>`,
  );
}

function page(status: number, title: string, text: string, headers: Record<string, string> = {}): Response {
  return html(status, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`, headers);
}

function html(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(
    `<!doctype html>\n<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Balansity</title></head><body>\n${body}\n</body></html>\n`,
    {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        ...headers,
      },
    },
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
