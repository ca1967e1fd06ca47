// unsubscribe: the one-click unsubscribe link of reminder emails (List-Unsubscribe, RFC 8058).
// Deployed with `verify_jwt = false` (supabase/config.toml): mail providers post to it without a
// session; the link's HMAC (UNSUBSCRIBE_SECRET, shared with the worker) is what is checked.
import { callRpc } from "../_shared/database-rpc.ts";
import { denoEnv } from "../_shared/function-config.ts";
import { jsonLog } from "../_shared/log.ts";
import { loadUnsubscribeConfig } from "./config.ts";
import { createUnsubscribeHandler, type UnsubscribeResult } from "./handler.ts";

const config = loadUnsubscribeConfig(denoEnv());
const rpc = { supabaseUrl: config.supabaseUrl, apiKey: config.serviceRoleKey, bearer: config.serviceRoleKey };

Deno.serve(
  createUnsubscribeHandler({
    secret: config.secret,
    unsubscribe: (userId) =>
      callRpc<UnsubscribeResult>(rpc, "unsubscribe_reminder_emails", { p_user_id: userId }),
    log: jsonLog,
  }),
);
