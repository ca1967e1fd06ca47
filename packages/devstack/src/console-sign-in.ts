import { runAccessTokenHook } from "./access-token-hook.ts";
import type { JwtClaims } from "./postgrest-rpc.ts";
import { withClient } from "./with-client.ts";

/** A user of auth.users whose app_metadata names them an operator. */
export interface ConsoleOperator {
  readonly id: string;
  readonly email: string;
}

/** The operator the seed creates (the first one by creation time), or undefined when there is none. */
export async function findOperator(databaseUrl: string): Promise<ConsoleOperator | undefined> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<ConsoleOperator>(
      `select id::text as id, coalesce(email, '') as email from auth.users
        where raw_app_meta_data ->> 'role' = 'operator'
        order by created_at, id limit 1`,
    );
    return rows[0];
  });
}

export interface SignInLinkOptions {
  /** Where the console is served, e.g. `http://localhost:5173/`. */
  readonly consoleUrl: string;
  /** The database whose access token hook decides the token's role (as Supabase Auth asks it). */
  readonly databaseUrl: string;
  readonly operator: ConsoleOperator;
  /** Signs the access token with the stack's secret (PostgrestRpc.signJwt). */
  readonly signJwt: (claims: JwtClaims) => string;
  /** Default 12 hours. */
  readonly validForSeconds?: number | undefined;
  /** Default Date.now(). */
  readonly now?: number | undefined;
}

/**
 * A console link that signs the operator in, the way a Supabase magic link does (implicit flow):
 * the access token and its expiry in the URL fragment, which supabase-js reads, checks with
 * GET /auth/v1/user and then removes from the address bar. The fragment never reaches a server.
 * There is no refresh: when the token expires, open a new link (`devstack up` prints one).
 * The claims go through the database's Custom Access Token Hook first, which names the operator role.
 */
export async function consoleSignInLink(options: SignInLinkOptions): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const expiresIn = options.validForSeconds ?? 12 * 3600;
  const claims = await runAccessTokenHook(options.databaseUrl, {
    role: "authenticated",
    aud: "authenticated",
    sub: options.operator.id,
    email: options.operator.email,
    app_metadata: { provider: "email", role: "operator" },
    user_metadata: {},
    iat: now,
    exp: now + expiresIn,
    iss: "devstack",
  });
  const accessToken = options.signJwt(claims);
  const fragment = new URLSearchParams({
    access_token: accessToken,
    token_type: "bearer",
    expires_in: String(expiresIn),
    expires_at: String(now + expiresIn),
    // supabase-js requires one; the stand-in has no refresh endpoint, so it is never used.
    refresh_token: "devstack-no-refresh",
    type: "magiclink",
  });
  const url = new URL(options.consoleUrl);
  url.hash = fragment.toString();
  return url.toString();
}
