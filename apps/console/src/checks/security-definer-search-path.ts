import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";

/** Schemas our migrations create functions in. Extension-owned functions are left out. */
export const ownSchemas = ["public", "automation", "analytics"] as const;

interface DefinerRow {
  signature: string;
  search_path: string | null;
}

/**
 * Every security definer function in our schemas pins `search_path = ''` (so a caller cannot put
 * their own objects in front of the ones it uses).
 */
export const securityDefinerSearchPathCheck: Check = {
  name: "security-definer-search-path",
  description: "every security definer function in public (and automation, analytics) has search_path = ''",
  async run(db: Queryable) {
    const { rows } = await db.query<DefinerRow>(
      `select pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) as signature,
              (select s from unnest(p.proconfig) as s where s like 'search_path=%' limit 1) as search_path
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where p.prosecdef
         and n.nspname = any($1::text[])
         and not exists (
           select from pg_catalog.pg_depend d
           where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
         )
       order by signature`,
      [[...ownSchemas]],
    );
    const findings: Finding[] = rows
      .filter((row) => row.search_path !== 'search_path=""')
      .map((row) =>
        fail(
          `security definer function ${row.signature} ${
            row.search_path === null
              ? "has no search_path setting"
              : `has ${row.search_path} instead of search_path=""`
          }: a caller can shadow the objects it uses`,
          `alter function ${row.signature} set search_path = ''; (and qualify every name in its body, e.g. public.profiles, pg_catalog.now())`,
        ),
      );
    return report(findings, `${rows.length} security definer functions pin search_path`);
  },
};
