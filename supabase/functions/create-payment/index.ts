// create-payment: the frontend starts paying for an appointment (see handler.ts). Deployed with
// JWT verification on: only a signed-in user reaches it.
import { callRpc } from "../_shared/database-rpc.ts";
import { denoEnv } from "../_shared/function-config.ts";
import { jsonLog } from "../_shared/log.ts";
import { yookassaApi } from "../_shared/yookassa-api.ts";
import { loadCreatePaymentConfig } from "./config.ts";
import { createPaymentHandler, type StartedPayment } from "./handler.ts";

const config = loadCreatePaymentConfig(denoEnv());

Deno.serve(
  createPaymentHandler({
    api: yookassaApi({ apiUrl: config.apiUrl, shopId: config.shopId, secretKey: config.secretKey }),
    startPayment: async (userJwt, appointmentId) => {
      const rows = await callRpc<StartedPayment[]>(
        { supabaseUrl: config.supabaseUrl, apiKey: config.anonKey, bearer: userJwt },
        "start_appointment_payment",
        { appointment_id: appointmentId },
      );
      const started = rows[0];
      if (!started) throw new Error("start_appointment_payment returned no row");
      return started;
    },
    attachProviderPayment: async (paymentId, providerPaymentId) => {
      await callRpc(
        { supabaseUrl: config.supabaseUrl, apiKey: config.serviceRoleKey, bearer: config.serviceRoleKey },
        "attach_provider_payment",
        { payment_id: paymentId, provider_payment_id: providerPaymentId },
      );
    },
    returnUrl: config.returnUrl,
    log: jsonLog,
  }),
);
