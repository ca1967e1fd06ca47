import { type Check, fail, type Queryable, report, warn } from "../doctor/check.ts";
import { expectedSchema } from "./expected-schema.ts";

/**
 * Row level security is on for every table in schema public (exposed through the API: without RLS
 * the grants alone decide, and anon and authenticated get default grants on Supabase). A table that
 * is not ours (supabase/schema.json) without it is a warning.
 */
export const rowLevelSecurityCheck: Check = {
  name: "row-level-security",
  description: "row level security is enabled on every table in schema public",
  async run(db: Queryable) {
    const { rows } = await db.query<{ table_name: string; rls: boolean }>(
      `select pg_catalog.format('%I.%I', n.nspname, c.relname) as table_name, c.relrowsecurity as rls
       from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public'
         and c.relkind in ('r', 'p')
         and not exists (
           select from pg_catalog.pg_depend d
           where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
         )
       order by c.relname`,
    );
    const ours = new Set(expectedSchema().tables.map((table) => table.name));
    const findings = rows
      .filter((row) => !row.rls)
      .map((row) => {
        const problem = `${row.table_name} has row level security disabled: every row is open to whatever the API roles are granted`;
        const fix = `alter table ${row.table_name} enable row level security; (and make sure it has a policy for each role that uses it)`;
        // Not ours (the app's own table): a risk worth telling its owners, not ours to fail on.
        return ours.has(row.table_name) ? fail(problem, fix) : warn(`${problem} (not one of ours)`, fix);
      });
    return report(findings, `${rows.length} tables`);
  },
};
