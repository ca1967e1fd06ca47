import { type Finding, fail, type Queryable } from "../doctor/check.ts";

/** The roles PostgREST switches to: what the browser (anon, authenticated) and servers use. */
export const apiRoles = ["anon", "authenticated", "service_role"] as const;
export type ApiRole = (typeof apiRoles)[number];

/**
 * A FAIL for each API role the database lacks: privilege checks need them, and so does Supabase.
 * Plain PostgreSQL gets them from the devstack's supabase-platform.sql.
 */
export async function missingApiRoles(db: Queryable): Promise<Finding[]> {
  const { rows } = await db.query<{ rolname: string }>(
    "select rolname::text as rolname from pg_catalog.pg_roles where rolname = any($1::text[])",
    [[...apiRoles]],
  );
  const present = new Set(rows.map((row) => row.rolname));
  return apiRoles
    .filter((role) => !present.has(role))
    .map((role) =>
      fail(
        `role ${role} does not exist: this database is not set up like Supabase`,
        "on Supabase it always exists; on local PostgreSQL start the devstack (pnpm dev), which installs packages/devstack/sql/supabase-platform.sql, before migrating",
      ),
    );
}
