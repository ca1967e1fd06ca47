import { DatabaseRpcError } from "../_shared/database-rpc.ts";
import { z } from "../_shared/deps.ts";
import type { Log } from "../_shared/log.ts";
import { type YooKassaApi, YooKassaApiError } from "../_shared/yookassa-api.ts";

/**
 * The frontend starts paying for an appointment: `POST /functions/v1/create-payment` with the user's
 * session (`Authorization: Bearer <user JWT>`, checked by Supabase: verify_jwt on) and
 * `{ "appointment_id": "<uuid>" }`. Answers `{ payment_id, confirmation_url }`: send the user there.
 *
 *   1. public.start_appointment_payment(appointment_id) with the user's JWT: the appointment must be
 *      the caller's; the amount and currency come from public.appointments, never from the request
 *   2. POST /v3/payments with `Idempotence-Key: <our payment id>` (asking twice returns the same
 *      payment), capture on, `metadata.payment_id` = our row (how notifications find it)
 *   3. public.attach_provider_payment as service_role: our row learns YooKassa's payment id
 *
 * A payment already linked is read back (GET) for its confirmation URL while it is still pending.
 */

const requestSchema = z.object({ appointment_id: z.uuid({ error: "must be a UUID" }) });

export interface StartedPayment {
  readonly payment_id: string;
  readonly amount: number | string;
  readonly currency: string;
  readonly provider_payment_id: string | null;
  readonly description: string;
}

export interface CreatePaymentDependencies {
  readonly api: YooKassaApi;
  /** start_appointment_payment with the caller's JWT (RLS and auth.uid() decide). */
  readonly startPayment: (userJwt: string, appointmentId: string) => Promise<StartedPayment>;
  readonly attachProviderPayment: (paymentId: string, providerPaymentId: string) => Promise<void>;
  readonly returnUrl: string;
  readonly log: Log;
}

export function createPaymentHandler(deps: CreatePaymentDependencies) {
  return async (request: Request): Promise<Response> => {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" });
    const userJwt = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!userJwt) return json(401, { error: "sign_in_required" });
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return json(400, { error: "invalid_request", fields: ["(body)"], message: "the body must be JSON" });
    }
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)");
      return json(400, { error: "invalid_request", fields, message: `invalid ${fields.join(", ")}` });
    }

    try {
      const started = await deps.startPayment(userJwt, parsed.data.appointment_id);
      if (started.provider_payment_id) {
        const existing = await deps.api.getPayment(started.provider_payment_id);
        const url = existing?.confirmation?.confirmation_url;
        if (existing?.status === "pending" && url) {
          return json(200, { payment_id: started.payment_id, confirmation_url: url });
        }
        return json(409, {
          error: "payment_in_progress",
          message: "the payment is being settled; try again in a minute",
        });
      }
      const created = await deps.api.createPayment(
        {
          amount: { value: Number(started.amount).toFixed(2), currency: started.currency },
          capture: true,
          confirmation: { type: "redirect", return_url: deps.returnUrl },
          description: started.description.slice(0, 128),
          metadata: { payment_id: started.payment_id, appointment_id: parsed.data.appointment_id },
        },
        started.payment_id,
      );
      await deps.attachProviderPayment(started.payment_id, created.id);
      deps.log("info", "payment created", {
        payment_id: started.payment_id,
        provider_payment_id: created.id,
      });
      return json(200, {
        payment_id: started.payment_id,
        confirmation_url: created.confirmation?.confirmation_url ?? null,
      });
    } catch (error) {
      if (error instanceof DatabaseRpcError) {
        // PostgREST's status: 404 not the caller's appointment, 400 cannot be paid, 401/403 session.
        const status = error.status >= 400 && error.status < 500 ? error.status : 503;
        return json(status, { error: error.code, message: error.message });
      }
      if (error instanceof YooKassaApiError) {
        deps.log("error", "YooKassa could not create the payment", {
          error: { code: error.code, message: error.message },
        });
        return json(502, { error: error.code, message: "the payment provider is unavailable; try again" });
      }
      throw error;
    }
  };
}

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type",
  "access-control-allow-methods": "POST, OPTIONS",
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...cors },
  });
}
