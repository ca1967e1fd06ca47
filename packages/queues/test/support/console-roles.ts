import type pg from "pg";

/** Who calls a console function in a test: the JWT PostgREST would set, and the role it would switch to. */
export type ConsoleCaller =
  | "operator"
  | "operatorWithoutHook"
  | "roleWithoutMetadata"
  | "user"
  | "anon"
  | "service_role";

const callers: Record<ConsoleCaller, { role: string; claims: object }> = {
  // An operator's token as the access token hook makes it: role operator, app_metadata saying so.
  operator: {
    role: "operator",
    claims: {
      role: "operator",
      sub: "99999999-9999-4999-8999-999999999999",
      app_metadata: { provider: "email", role: "operator" },
    },
  },
  // An operator's token issued without the hook (not enabled): a signed-in user's role.
  operatorWithoutHook: {
    role: "authenticated",
    claims: {
      role: "authenticated",
      sub: "99999999-9999-4999-8999-999999999999",
      app_metadata: { provider: "email", role: "operator" },
    },
  },
  // The operator role without app_metadata saying so: what is_operator(), the second check, refuses.
  roleWithoutMetadata: {
    role: "operator",
    claims: {
      role: "operator",
      sub: "88888888-8888-4888-8888-888888888888",
      app_metadata: { provider: "email" },
    },
  },
  // Signed in, and calling itself an operator where a user can write (user_metadata): not enough.
  user: {
    role: "authenticated",
    claims: {
      role: "authenticated",
      sub: "11111111-1111-4111-8111-111111111111",
      app_metadata: { provider: "email" },
      user_metadata: { role: "operator" },
    },
  },
  anon: { role: "anon", claims: { role: "anon" } },
  service_role: { role: "service_role", claims: { role: "service_role" } },
};

/**
 * Runs `work` on one connection as `caller` (role and JWT claims set for the transaction, as
 * PostgREST sets them) in a transaction that is committed when `commit` is true, else rolled back.
 */
export async function asCaller<T>(
  pool: pg.Pool,
  caller: ConsoleCaller,
  work: (client: pg.PoolClient) => Promise<T>,
  commit = false,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { role, claims } = callers[caller];
    await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
      role,
      JSON.stringify(claims),
    ]);
    const result = await work(client);
    await client.query(commit ? "commit" : "rollback");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}
