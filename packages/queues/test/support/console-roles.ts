import type pg from "pg";

/** Who calls a console function in a test: the JWT PostgREST would set, and the role it would switch to. */
export type ConsoleCaller = "operator" | "user" | "anon" | "service_role";

const callers: Record<ConsoleCaller, { role: string; claims: object }> = {
  operator: {
    role: "authenticated",
    claims: {
      role: "authenticated",
      sub: "99999999-9999-4999-8999-999999999999",
      app_metadata: { provider: "email", role: "operator" },
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
