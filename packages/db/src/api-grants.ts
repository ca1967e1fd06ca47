import type pg from "pg";
import {
  type AllowedFunction,
  type AllowedTable,
  type ApiRole,
  allowedFunctions,
  allowedTables,
  apiRoles,
  exposedSchemas,
  type TablePrivilege,
  tablePrivileges,
} from "./api-allow-list.ts";

/** A pool, a client, or a client inside a transaction. */
export interface GrantsQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/** One way the database differs from the allow-list, with the SQL that would make it agree. */
export interface GrantProblem {
  /** `unlisted`: in an exposed schema but not in the list; `excess`: a role may do more than listed; `missing`: less. */
  readonly kind: "unlisted" | "excess" | "missing";
  /** `public.pgmq_send(text, jsonb, integer)` or `public.profiles`. */
  readonly object: string;
  readonly role?: ApiRole;
  readonly privilege?: string;
  readonly message: string;
  readonly fix: string;
}

/** What the walk saw: the problems, and the listed objects the database does not have (yet). */
export interface ApiGrantsWalk {
  readonly problems: readonly GrantProblem[];
  /**
   * Unlisted objects that `isOurs` says are not ours (the app's own tables and functions): their
   * grants are their owners' to decide, so they are not problems. Empty without `isOurs`.
   */
  readonly foreign: readonly string[];
  /** Listed objects absent from the database, e.g. a migration not applied yet. */
  readonly absent: readonly string[];
  readonly functionsChecked: number;
  readonly tablesChecked: number;
}

interface FunctionRow {
  signature: string;
  in_pgmq: boolean;
  /** The API roles that may execute it. */
  roles: ApiRole[];
}

interface RelationRow {
  name: string;
  kind: string;
  role: ApiRole;
  privileges: TablePrivilege[];
}

// has_any_column_privilege counts column grants (`grant update (full_name)`), which PostgREST uses
// as well as table grants; delete, truncate and trigger exist only per table. Sequences: usage is
// reported as select, update as update.
const relationPrivilegesSql = `
  select pg_catalog.format('%s.%s', n.nspname, c.relname) as name, c.relkind::text as kind, r.role,
         array_remove(array[
           case when c.relkind = 'S' then
             case when pg_catalog.has_sequence_privilege(r.role, c.oid, 'usage')
                    or pg_catalog.has_sequence_privilege(r.role, c.oid, 'select') then 'select' end
           when pg_catalog.has_any_column_privilege(r.role, c.oid, 'select') then 'select' end,
           case when c.relkind <> 'S' and pg_catalog.has_any_column_privilege(r.role, c.oid, 'insert') then 'insert' end,
           case when c.relkind = 'S' then
             case when pg_catalog.has_sequence_privilege(r.role, c.oid, 'update') then 'update' end
           when pg_catalog.has_any_column_privilege(r.role, c.oid, 'update') then 'update' end,
           case when c.relkind <> 'S' and pg_catalog.has_table_privilege(r.role, c.oid, 'delete') then 'delete' end,
           case when c.relkind <> 'S' and pg_catalog.has_table_privilege(r.role, c.oid, 'truncate') then 'truncate' end,
           case when c.relkind <> 'S' and pg_catalog.has_any_column_privilege(r.role, c.oid, 'references') then 'references' end,
           case when c.relkind <> 'S' and pg_catalog.has_table_privilege(r.role, c.oid, 'trigger') then 'trigger' end
         ], null) as privileges
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join pg_catalog.unnest($2::text[]) as r (role)
  where n.nspname = any ($1::text[])
    and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
  order by name, r.role`;

const functionPrivilegesSql = `
  select pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) as signature,
         n.nspname = 'pgmq' as in_pgmq,
         array(select r.role from pg_catalog.unnest($2::text[]) as r (role)
               where pg_catalog.has_function_privilege(r.role, p.oid, 'execute')) as roles
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = any ($1::text[]) or n.nspname = 'pgmq'
  order by signature`;

/**
 * Walks every function, table, view and sequence of the schemas PostgREST exposes (and every
 * function of schema pgmq) for each API role (anon, authenticated, operator, service_role), and compares what each role
 * may do with the allow-list (`api-allow-list.ts`). Needs the three roles to exist.
 *
 * On a database that holds more than ours (Supabase's default grants give the app's own tables and
 * functions to every API role), pass `isOurs`: an unlisted object it rejects goes to `foreign`
 * instead of `problems`. Without it every unlisted object is a problem, which is right for a
 * database the migrations alone made (the tests).
 *
 * ### Examples
 * ```ts
 * const walk = await walkApiGrants(pool);
 * for (const problem of walk.problems) console.log(problem.message, "→", problem.fix);
 * ```
 */
export async function walkApiGrants(
  db: GrantsQueryable,
  allowList: {
    readonly functions: Readonly<Record<string, AllowedFunction>>;
    readonly tables: Readonly<Record<string, AllowedTable>>;
  } = { functions: allowedFunctions, tables: allowedTables },
  options: {
    /** `public.f(uuid)` (kind function) or `public.t` (kind relation): is it one of ours? */
    readonly isOurs?: (object: string, kind: "function" | "relation") => boolean;
  } = {},
): Promise<ApiGrantsWalk> {
  const { isOurs } = options;
  const foreign: string[] = [];
  const schemas = [...exposedSchemas];
  // A role the database lacks (operator before migration 046) may do nothing: its listed grants are missing.
  const existing = (
    await db.query<{ rolname: ApiRole }>(
      "select rolname::text as rolname from pg_catalog.pg_roles where rolname = any($1::text[])",
      [[...apiRoles]],
    )
  ).rows.map((row) => row.rolname);
  const functions = (await db.query<FunctionRow>(functionPrivilegesSql, [schemas, existing])).rows;
  const relations = (await db.query<RelationRow>(relationPrivilegesSql, [schemas, existing])).rows;
  const problems: GrantProblem[] = [];

  for (const row of functions) {
    const allowed = row.in_pgmq ? { execute: ["service_role"] as const } : allowList.functions[row.signature];
    if (!allowed && isOurs !== undefined && !isOurs(row.signature, "function")) {
      foreign.push(row.signature);
      continue;
    }
    if (!allowed) {
      problems.push({
        kind: "unlisted",
        object: row.signature,
        message: `function ${row.signature} is in an exposed schema but not in the API allow-list`,
        fix: `decide who may call it: revoke execute on function ${row.signature} from public, anon, authenticated (then grant to its callers), and add it to packages/db/src/api-allow-list.ts`,
      });
      continue;
    }
    for (const role of apiRoles) {
      const listed = (allowed.execute as readonly ApiRole[]).includes(role);
      const can = row.roles.includes(role);
      if (can && !listed) {
        problems.push({
          kind: "excess",
          object: row.signature,
          role,
          privilege: "execute",
          message: `${role} can execute ${row.signature}, which the API allow-list does not allow`,
          fix: `revoke execute on function ${row.signature} from public, ${role}`,
        });
      }
      // pgmq functions need not all be granted to service_role; listed public ones must be.
      if (!can && listed && !row.in_pgmq) {
        problems.push({
          kind: "missing",
          object: row.signature,
          role,
          privilege: "execute",
          message: `${role} cannot execute ${row.signature}, which its callers need`,
          fix: `grant execute on function ${row.signature} to ${role}`,
        });
      }
    }
  }

  const seenTables = new Set<string>();
  for (const row of relations) {
    const allowed = allowList.tables[row.name];
    if (!allowed && isOurs !== undefined && !isOurs(row.name, "relation")) {
      if (!seenTables.has(row.name)) foreign.push(row.name);
      seenTables.add(row.name);
      continue;
    }
    if (!allowed) {
      if (!seenTables.has(row.name)) {
        problems.push({
          kind: "unlisted",
          object: row.name,
          message: `${relationKind(row.kind)} ${row.name} is in an exposed schema but not in the API allow-list`,
          fix: `revoke all on ${row.name} from anon, authenticated (then grant what is needed), and add it to packages/db/src/api-allow-list.ts`,
        });
      }
      seenTables.add(row.name);
      continue;
    }
    seenTables.add(row.name);
    const listed = allowed.privileges[row.role] ?? [];
    for (const privilege of tablePrivileges) {
      const has = row.privileges.includes(privilege);
      if (has && !listed.includes(privilege)) {
        problems.push({
          kind: "excess",
          object: row.name,
          role: row.role,
          privilege,
          message: `${row.role} has ${privilege} on ${row.name}, which the API allow-list does not allow`,
          fix: `revoke ${privilege} on ${row.name} from public, ${row.role}`,
        });
      }
      if (!has && listed.includes(privilege)) {
        problems.push({
          kind: "missing",
          object: row.name,
          role: row.role,
          privilege,
          message: `${row.role} lacks ${privilege} on ${row.name}, which the API allow-list expects`,
          fix: `grant ${privilege} on ${row.name} to ${row.role}`,
        });
      }
    }
  }

  const presentFunctions = new Set(functions.map((row) => row.signature));
  const absent = [
    ...Object.keys(allowList.functions).filter((signature) => !presentFunctions.has(signature)),
    ...Object.keys(allowList.tables).filter((name) => !seenTables.has(name)),
  ];
  return { problems, foreign, absent, functionsChecked: functions.length, tablesChecked: seenTables.size };
}

function relationKind(kind: string): string {
  if (kind === "S") return "sequence";
  if (kind === "v" || kind === "m") return "view";
  return "table";
}
