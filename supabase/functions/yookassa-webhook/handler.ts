import { DatabaseRpcError } from "../_shared/database-rpc.ts";
import { z } from "../_shared/deps.ts";
import { inRanges, yookassaNotificationRanges } from "../_shared/ip-ranges.ts";
import type { Log } from "../_shared/log.ts";
import { type YooKassaApi, YooKassaApiError } from "../_shared/yookassa-api.ts";

/**
 * YooKassa's notification → the database, trusting nothing in the body but the event name and the
 * object's id:
 *
 *   1. caller     (PAYMENT_IP_CHECK=on) the caller's address must be in YooKassa's published ranges: 403
 *   2. body       JSON `{ type: "notification", event, object: { id } }`, else 400 (logged by field, no values)
 *   3. ask        GET /v3/payments/{id} or /v3/refunds/{id} with the shop's credentials; 404 = not found
 *   4. apply      public.apply_payment_notification(provider, event, object_id, api_object) as service_role:
 *                 it compares status, amount, currency and metadata with our payment, applies the event
 *                 once, and records a refusal
 *   5. answer     200 once the database has decided (refusals too: retrying a forgery helps nobody);
 *                 502/503 when YooKassa or the database could not be asked, so YooKassa delivers again
 *
 * Other events (YooKassa sends only those the shop subscribed to) are answered 200 and ignored.
 */

export const handledEvents = [
  "payment.succeeded",
  "payment.waiting_for_capture",
  "payment.canceled",
  "refund.succeeded",
] as const;

const notificationSchema = z.object({
  type: z.literal("notification"),
  event: z.string().min(1).max(100),
  object: z.looseObject({ id: z.string().min(1).max(200) }),
});

/** Notifications are small; anything bigger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

export interface ApplyResult {
  readonly outcome: "applied" | "unchanged" | "ignored" | "duplicate" | "refused";
  readonly reason?: string;
  readonly payment_id?: string | null;
  readonly status?: string;
}

export interface WebhookDependencies {
  readonly api: YooKassaApi;
  /** public.apply_payment_notification through the project's API, as service_role. */
  readonly applyNotification: (args: {
    provider: string;
    event: string;
    object_id: string;
    api_object: unknown;
  }) => Promise<ApplyResult>;
  readonly checkIp: boolean;
  readonly log: Log;
}

export function createWebhookHandler(deps: WebhookDependencies) {
  return async (request: Request, info?: { readonly remoteAddr?: { readonly hostname?: string } }) => {
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" });

    if (deps.checkIp && !inRanges(callerAddress(request, info), yookassaNotificationRanges)) {
      deps.log("warn", "notification refused: the caller is not one of YooKassa's addresses", {
        reason: "ip_not_allowed",
      });
      return json(403, { error: "forbidden" });
    }

    const body = await request.text();
    if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
      deps.log("warn", "malformed notification", { reason: "too_large" });
      return json(400, { error: "malformed", detail: "body too large" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      deps.log("warn", "malformed notification", { reason: "not_json" });
      return json(400, { error: "malformed", detail: "body is not JSON" });
    }
    const parsed = notificationSchema.safeParse(payload);
    if (!parsed.success) {
      // Field paths only: the body may hold a card's last digits or an email.
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)"))];
      deps.log("warn", "malformed notification", { reason: "invalid_fields", fields });
      return json(400, { error: "malformed", fields });
    }
    const { event, object } = parsed.data;
    if (!(handledEvents as readonly string[]).includes(event)) {
      deps.log("info", "notification ignored: event not handled", { event, object_id: object.id });
      return json(200, { outcome: "ignored" });
    }

    try {
      const apiObject =
        event === "refund.succeeded"
          ? await deps.api.getRefund(object.id)
          : await deps.api.getPayment(object.id);
      const result = await deps.applyNotification({
        provider: "yookassa",
        event,
        object_id: object.id,
        api_object: apiObject,
      });
      if (result.outcome === "refused") {
        // An alert: forged, or our data and YooKassa's disagree. Recorded in automation.payment_notifications.
        deps.log("error", "ALERT payment notification refused", {
          alert: "payment_notification_refused",
          event,
          object_id: object.id,
          reason: result.reason,
          payment_id: result.payment_id ?? null,
        });
      } else {
        deps.log("info", "payment notification handled", {
          event,
          object_id: object.id,
          outcome: result.outcome,
          payment_id: result.payment_id ?? null,
          status: result.status,
        });
      }
      return json(200, { outcome: result.outcome });
    } catch (error) {
      if (error instanceof YooKassaApiError) {
        deps.log("error", "YooKassa could not be asked; the notification will be delivered again", {
          event,
          object_id: object.id,
          error: { code: error.code, message: error.message },
        });
        return json(502, { error: error.code });
      }
      if (error instanceof DatabaseRpcError) {
        deps.log("error", "the database refused the notification; it will be delivered again", {
          event,
          object_id: object.id,
          error: { code: error.code, message: error.message },
        });
        return json(503, { error: "database_unavailable" });
      }
      throw error;
    }
  };
}

/** The client's address: the first X-Forwarded-For hop (Supabase's gateway sets it), else the socket's. */
function callerAddress(
  request: Request,
  info?: { readonly remoteAddr?: { readonly hostname?: string } },
): string {
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || info?.remoteAddr?.hostname || "";
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
