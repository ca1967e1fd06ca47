// yookassa-webhook: YooKassa's HTTP notifications (payment.succeeded, payment.waiting_for_capture,
// payment.canceled, refund.succeeded). Deployed with `verify_jwt = false` (supabase/config.toml):
// YooKassa sends no JWT; what it says is checked with its API instead (see handler.ts).
import { callRpc } from "../_shared/database-rpc.ts";
import { denoEnv } from "../_shared/function-config.ts";
import { jsonLog } from "../_shared/log.ts";
import { yookassaApi } from "../_shared/yookassa-api.ts";
import { loadWebhookConfig } from "./config.ts";
import { type ApplyResult, createWebhookHandler } from "./handler.ts";

const config = loadWebhookConfig(denoEnv());
const rpc = { supabaseUrl: config.supabaseUrl, apiKey: config.serviceRoleKey, bearer: config.serviceRoleKey };

Deno.serve(
  createWebhookHandler({
    api: yookassaApi({ apiUrl: config.apiUrl, shopId: config.shopId, secretKey: config.secretKey }),
    applyNotification: (args) => callRpc<ApplyResult>(rpc, "apply_payment_notification", args),
    checkIp: config.checkIp,
    log: jsonLog,
  }),
);
