import { type Check, type Finding, fail, type Queryable, report, warn } from "../doctor/check.ts";
import { expectedSchema, isOurs } from "./expected-schema.ts";

/** Schemas our migrations create functions in. Extension-owned functions are left out. */
export const ownSchemas = ["public", "automation", "analytics"] as const;

interface DefinerRow {
  signature: string;
  search_path: string | null;
}

/**
 * Every security definer function in our schemas pins `search_path = ''` (so a caller cannot put
 * their own objects in front of the ones it uses). One that is not ours (supabase/schema.json) is a
 * warning.
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
    const ours = isOurs(expectedSchema());
    const findings: Finding[] = rows
      .filter((row) => row.search_path !== 'search_path=""')
      .map((row) => {
        const problem = `security definer function ${row.signature} ${
          row.search_path === null
            ? "has no search_path setting"
            : `has ${row.search_path} instead of search_path=""`
        }: a caller can shadow the objects it uses`;
        const fix = `alter function ${row.signature} set search_path = ''; (and qualify every name in its body, e.g. public.profiles, pg_catalog.now())`;
        // Not ours (the app's or the seed era's): a risk worth telling its owners, not ours to fail on.
        return ours(row.signature, "function")
          ? fail(problem, fix)
          : warn(`${problem} (not one of ours)`, fix);
      });
    return report(findings, `${rows.length} security definer functions pin search_path`);
  },
};
