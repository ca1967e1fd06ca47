import type { SupabaseClient } from "@supabase/supabase-js";
import { QueueRpcError } from "../errors.ts";
import type { QueueRpcArgs, QueueRpcName, QueueTransport } from "../queue-transport.ts";

/** The part of a supabase-js client the transport uses. */
export type SupabaseRpcClient = Pick<SupabaseClient, "rpc">;

/**
 * A transport over supabase-js: each producer becomes `client.rpc(name, args)` (PostgREST).
 * Browser-safe. What a call may do depends on the client's key and session: with the anon key and
 * a signed-in user only {@link requestAssessmentReport} succeeds; the `queue_*` producers need the
 * service-role key, which belongs on servers (Edge Functions, the worker) and never in a browser.
 *
 * ### Examples
 * ```ts
 * import { createClient } from "@supabase/supabase-js";
 * import { queueEmailTask } from "@balansity/queues";
 * import { supabaseTransport } from "@balansity/queues/supabase";
 *
 * const supabase = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!, {
 *   auth: { persistSession: false },
 * });
 * await queueEmailTask(supabaseTransport(supabase), { to, template: "report_ready", variables });
 * ```
 */
export function supabaseTransport(client: SupabaseRpcClient): QueueTransport {
  return {
    async call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>): Promise<unknown> {
      let response: Awaited<ReturnType<SupabaseRpcClient["rpc"]>>;
      try {
        response = await client.rpc(name, args);
      } catch (error) {
        // supabase-js reports HTTP and PostgREST errors in `error`; a throw is a network failure.
        throw new QueueRpcError({ rpc: name, message: (error as Error).message, status: 0, cause: error });
      }
      if (response.error) {
        throw new QueueRpcError({
          rpc: name,
          message: response.error.message,
          sqlState: response.error.code || undefined,
          details: response.error.details || undefined,
          hint: response.error.hint || undefined,
          status: response.status,
        });
      }
      return response.data;
    },
  };
}
