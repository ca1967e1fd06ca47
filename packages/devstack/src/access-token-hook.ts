import type { JwtClaims } from "./postgrest-rpc.ts";
import { withClient } from "./with-client.ts";

/**
 * Runs the project's Custom Access Token Hook (`public.custom_access_token_hook`, migration 046) on
 * `claims` the way Supabase Auth does before it issues a token: as supabase_auth_admin, with the event
 * `{ user_id, claims, authentication_method }`, keeping the claims it returns. So a local operator's
 * token names the role the hook chooses (operator), as on Supabase.
 *
 * ### Examples
 * ```ts
 * const claims = await runAccessTokenHook(databaseUrl, { role: "authenticated", sub, app_metadata });
 * const token = api.signJwt(claims); // role: "operator" when app_metadata.role is operator
 * ```
 */
export async function runAccessTokenHook(
  databaseUrl: string,
  claims: JwtClaims,
  authenticationMethod = "magiclink",
): Promise<JwtClaims> {
  return withClient(databaseUrl, async (client) => {
    await client.query("begin");
    try {
      await client.query("set local role supabase_auth_admin");
      const { rows } = await client.query<{ event: { claims?: unknown } }>(
        "select public.custom_access_token_hook($1::jsonb) as event",
        [
          JSON.stringify({
            user_id: claims.sub ?? null,
            claims,
            authentication_method: authenticationMethod,
          }),
        ],
      );
      const returned = rows[0]?.event.claims;
      if (typeof returned !== "object" || returned === null || Array.isArray(returned)) {
        throw new Error("public.custom_access_token_hook returned no claims object");
      }
      return returned as JwtClaims;
    } finally {
      await client.query("rollback");
    }
  });
}
