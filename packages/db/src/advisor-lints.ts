import type { GrantsQueryable } from "./api-grants.ts";

/**
 * The security lints of Supabase's database advisors (splinter) that concern what our migrations
 * create, re-implemented as our own queries: splinter's `splinter.sql` is not published to a
 * package registry, so a test cannot run the original. Each query follows the lint of the same
 * name (supabase/splinter, `lints/00NN_<name>.sql`): the same catalog conditions, the same level
 * (0007 at ERROR, its earlier level; splinter now says INFO), the same schemas left out (Supabase's
 * own and extensions'). What is not here: lints about
 * performance (indexes, initplans, bloat), Auth and Storage settings, and extension versions.
 *
 * | lint                                                    | level | what it finds                                                        |
 * | ------------------------------------------------------- | ----- | -------------------------------------------------------------------- |
 * | 0002 auth_users_exposed                                 | ERROR | a view in an exposed schema over auth.users that anon/authenticated may read |
 * | 0007 policy_exists_rls_disabled                         | ERROR | policies on a table whose row level security is off                 |
 * | 0010 security_definer_view                              | ERROR | a view in an exposed schema without security_invoker                 |
 * | 0013 rls_disabled_in_public                             | ERROR | a table in public without row level security                         |
 * | 0015 rls_references_user_metadata                       | ERROR | a policy that reads user_metadata (a user writes it)                 |
 * | 0011 function_search_path_mutable                       | WARN  | a function without `set search_path = ''`                          |
 * | 0024 rls_policy_always_true                             | WARN  | a permissive write policy for anon/authenticated that is always true |
 * | 0028 anon_security_definer_function_executable          | WARN  | a security definer function anon may execute                         |
 * | 0029 authenticated_security_definer_function_executable | WARN  | a security definer function authenticated may execute                |
 * | 0026 pg_graphql_anon_table_exposed                      | WARN  | a table or view anon may read (its shape shows in GraphQL introspection) |
 * | 0027 pg_graphql_authenticated_table_exposed             | WARN  | a table or view authenticated may read (the same, for any signed-in user) |
 * | 0008 rls_enabled_no_policy                              | INFO  | row level security on, no policy (only owners and bypassrls read it) |
 *
 * Splinter reports 0026/0027 only where the pg_graphql extension is installed. It is on every Supabase
 * Cloud project by default and absent from the devstack, so these two are checked whether or not it is
 * installed here: what the dashboard will show.
 *
 * Locally the pgmq functions come from the devstack's pgmq-compatible SQL rather than the extension;
 * they are left out as the extension's would be (splinter skips objects an extension owns).
 */
export type AdvisorLevel = "ERROR" | "WARN" | "INFO";

export interface AdvisorFinding {
  readonly lint: string;
  readonly level: AdvisorLevel;
  /** `schema.name` or `schema.name(arguments)`. */
  readonly object: string;
}

/** Schemas splinter leaves out: Supabase's own and well-known extensions'. */
const skippedSchemas = [
  "_timescaledb_cache",
  "_timescaledb_catalog",
  "_timescaledb_config",
  "_timescaledb_internal",
  "auth",
  "cron",
  "extensions",
  "graphql",
  "graphql_public",
  "information_schema",
  "net",
  "pgmq",
  "pgroonga",
  "pgsodium",
  "pgsodium_masks",
  "pgtle",
  "pgbouncer",
  "pg_catalog",
  "pg_toast",
  "realtime",
  "repack",
  "storage",
  "supabase_functions",
  "supabase_migrations",
  "tiger",
  "topology",
  "vault",
];

/** `$1`: skipped schemas; `$2`: exposed schemas. Every query returns (lint, level, object). */
const lintQueries: readonly string[] = [
  // 0028, 0029: security definer functions the browser roles may execute.
  `select 'anon_security_definer_function_executable' as lint, 'WARN' as level,
          pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as object
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and pg_catalog.has_function_privilege('anon', p.oid, 'execute')
      and n.nspname <> all ($1::text[])`,
  `select 'authenticated_security_definer_function_executable', 'WARN',
          pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
      and n.nspname <> all ($1::text[])`,
  // 0026, 0027: what the browser roles may read shows in pg_graphql's introspection, with or without RLS.
  `select 'pg_graphql_anon_table_exposed', 'WARN', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm') and pg_catalog.has_table_privilege('anon', c.oid, 'select')
      and n.nspname <> all ($1::text[])`,
  `select 'pg_graphql_authenticated_table_exposed', 'WARN', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'v', 'm', 'f') and n.nspname <> all ($1::text[])
      and exists (select from pg_catalog.pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                     and pg_catalog.has_column_privilege('authenticated', c.oid, a.attnum, 'select'))`,
  // 0011: any function of ours (not an extension's) without an empty search_path.
  `select 'function_search_path_mutable', 'WARN',
          pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname <> all ($1::text[])
      and not exists (select from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
      and not coalesce(p.proconfig, '{}') && array['search_path=""']`,
  // 0013: tables of schema public without row level security.
  `select 'rls_disabled_in_public', 'ERROR', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and n.nspname = 'public' and not c.relrowsecurity`,
  // 0007: policies written for a table whose row level security is off.
  `select distinct 'policy_exists_rls_disabled', 'ERROR', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_policy pol join pg_catalog.pg_class c on c.oid = pol.polrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and not c.relrowsecurity and n.nspname <> all ($1::text[])
      and not exists (select from pg_catalog.pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
  // 0008: row level security on and no policy.
  `select 'rls_enabled_no_policy', 'INFO', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and c.relrowsecurity and n.nspname <> all ($1::text[])
      and not exists (select from pg_catalog.pg_policy pol where pol.polrelid = c.oid)
      and not exists (select from pg_catalog.pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
  // 0010: views in an exposed schema that run as their owner (no security_invoker).
  `select 'security_definer_view', 'ERROR', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'v' and n.nspname = any ($2::text[])
      and not coalesce(c.reloptions, '{}') && array['security_invoker=true', 'security_invoker=on']
      and not exists (select from pg_catalog.pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
  // 0002: views in an exposed schema over auth.users that the browser roles may read.
  `select distinct 'auth_users_exposed', 'ERROR', pg_catalog.format('%s.%s', n.nspname, c.relname)
     from pg_catalog.pg_depend d join pg_catalog.pg_rewrite r on r.oid = d.objid
     join pg_catalog.pg_class c on c.oid = r.ev_class
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where d.refobjid = 'auth.users'::regclass and c.relkind in ('v', 'm')
      and n.nspname = any ($2::text[])
      and (pg_catalog.has_table_privilege('anon', c.oid, 'select')
           or pg_catalog.has_table_privilege('authenticated', c.oid, 'select'))`,
  // 0015: policies that read user_metadata, which the user writes.
  `select 'rls_references_user_metadata', 'ERROR',
          pg_catalog.format('%s.%s (%s)', p.schemaname, p.tablename, p.policyname)
     from pg_catalog.pg_policies p
    where p.schemaname <> all ($1::text[])
      and (coalesce(p.qual, '') ~ 'user_metadata' or coalesce(p.with_check, '') ~ 'user_metadata')`,
  // 0024: permissive write policies for anon/authenticated (or everyone) that are always true.
  `select 'rls_policy_always_true', 'WARN',
          pg_catalog.format('%s.%s (%s)', p.schemaname, p.tablename, p.policyname)
     from pg_catalog.pg_policies p
     join pg_catalog.pg_class c on c.relname = p.tablename
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace and n.nspname = p.schemaname
     cross join lateral (
       select pg_catalog.regexp_replace(pg_catalog.lower(coalesce(p.qual, '')), '\\s', '', 'g') as q,
              pg_catalog.regexp_replace(pg_catalog.lower(coalesce(p.with_check, '')), '\\s', '', 'g') as w
     ) as e
    where c.relkind = 'r' and c.relrowsecurity and p.permissive = 'PERMISSIVE'
      and p.schemaname <> all ($1::text[])
      and (p.roles && array['public', 'anon', 'authenticated']::name[])
      and ((p.cmd in ('UPDATE', 'DELETE', 'ALL') and (e.q in ('true', '(true)', '1=1', '(1=1)') or p.qual is null))
        or e.w in ('true', '(true)', '1=1', '(1=1)')
        or (p.with_check is null and p.cmd = 'INSERT')
        or (p.with_check is null and p.cmd in ('UPDATE', 'ALL') and e.q in ('true', '(true)', '1=1', '(1=1)')))`,
];

/**
 * Runs the lints above on a database (Supabase's roles must exist) and returns every finding,
 * errors first.
 *
 * ### Examples
 * ```ts
 * const findings = await runAdvisorLints(pool);
 * const errors = findings.filter((finding) => finding.level === "ERROR");
 * ```
 */
export async function runAdvisorLints(
  db: GrantsQueryable,
  exposedSchemas: readonly string[] = ["public", "graphql_public"],
): Promise<AdvisorFinding[]> {
  const findings: AdvisorFinding[] = [];
  for (const query of lintQueries) {
    const { rows } = await db.query<{ lint: string; level: AdvisorLevel; object: string }>(
      // Both parameters referenced (and typed) whichever the lint uses.
      `select * from (${query}) as finding (lint, level, object)
        where $1::text[] is not null and $2::text[] is not null`,
      [skippedSchemas, [...exposedSchemas]],
    );
    findings.push(...rows);
  }
  const rank = { ERROR: 0, WARN: 1, INFO: 2 } as const;
  return findings.sort((a, b) => rank[a.level] - rank[b.level] || a.object.localeCompare(b.object));
}
