import type pg from "pg";
import { databaseTypeSchemas } from "../generate-database-types.ts";
import {
  byText,
  type ColumnState,
  type ConstraintState,
  type CronJobState,
  type FunctionState,
  type GrantState,
  type NamedDefinition,
  type SchemaState,
  type TableState,
  type TriggerState,
} from "./schema-state.ts";

/** A pool, a client, or a client inside a transaction. */
export interface SchemaQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/** The schemas whose tables and functions the migrations own (the rest is the platform's). */
export const ownedSchemas: readonly string[] = databaseTypeSchemas;

// Leaves out what an extension owns (pgmq's or pg_cron's objects, whichever schema they are in).
const notExtensionMember = (catalog: string, oid: string) => `not exists (
    select from pg_catalog.pg_depend d
    where d.classid = '${catalog}'::pg_catalog.regclass and d.objid = ${oid} and d.deptype = 'e')`;

// Grants as (grantee, privileges), the owner's own left out; a null ACL is the type's default. Every
// privilege there is prints as ALL: PostgreSQL 17 has one more for tables (MAINTAIN) than 15.
const grantsOf = (acl: string, kind: string, owner: string) => `coalesce((
    select pg_catalog.json_agg(pg_catalog.json_build_object('grantee', g.grantee, 'privileges', g.privileges))
    from (
      select case when a.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(a.grantee)::text end as grantee,
             case when pg_catalog.count(*) > 1 and pg_catalog.array_agg(a.privilege_type::text) @> (
                    select pg_catalog.array_agg(o.privilege_type::text)
                    from pg_catalog.aclexplode(pg_catalog.acldefault('${kind}', ${owner})) as o)
                  then array['ALL'] else pg_catalog.array_agg(a.privilege_type::text) end as privileges
      from pg_catalog.aclexplode(coalesce(${acl}, pg_catalog.acldefault('${kind}', ${owner}))) as a
      where a.grantee <> ${owner}
      group by a.grantee
    ) as g), '[]'::json)`;

const tablesSql = `
  select c.oid::int8::text as oid, pg_catalog.format('%I.%I', n.nspname, c.relname) as name,
         case when c.relkind in ('v', 'm') then 'view' else 'table' end as kind,
         c.relrowsecurity as row_security,
         pg_catalog.obj_description(c.oid, 'pg_class') as comment,
         ${grantsOf("c.relacl", "r", "c.relowner")} as grants
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any ($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
    and ${notExtensionMember("pg_catalog.pg_class", "c.oid")}`;

const columnsSql = `
  select a.attrelid::int8::text as oid, a.attname::text as name,
         pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
         case when a.attgenerated = '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end as "default",
         a.attidentity::text as identity,
         case when a.attgenerated <> '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end as generated,
         pg_catalog.col_description(a.attrelid, a.attnum) as comment,
         case when a.attacl is null then '[]'::json else ${grantsOf("a.attacl", "c", "c.relowner")} end as grants
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where a.attrelid = any ($1::oid[]) and a.attnum > 0 and not a.attisdropped
  order by a.attrelid, a.attnum`;

const constraintsSql = `
  select c.conrelid::int8::text as oid, c.conname::text as name, c.contype::text as type,
         pg_catalog.pg_get_constraintdef(c.oid) as definition
  from pg_catalog.pg_constraint c
  where c.conrelid = any ($1::oid[]) and c.contype in ('p', 'f', 'u', 'c', 'x')`;

// Indexes of our tables, and those we add to pgmq's queue tables (pgmq names its own
// <queue>_pkey / q_<queue>_vt_idx / archived_at_idx_<queue> / q_<queue>_msg_id_idx...: see below).
const indexesSql = `
  select i.indrelid::int8::text as oid, pg_catalog.format('%I.%I', n.nspname, t.relname) as table_name,
         n.nspname::text as schema, ic.relname::text as name, pg_catalog.pg_get_indexdef(i.indexrelid) as definition
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join pg_catalog.pg_class t on t.oid = i.indrelid
  join pg_catalog.pg_namespace n on n.oid = t.relnamespace
  where (i.indrelid = any ($1::oid[]) or n.nspname = 'pgmq')
    and not exists (select from pg_catalog.pg_constraint c where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x'))`;

const policiesSql = `
  select p.polrelid::int8::text as oid, p.polname::text as name,
         pg_catalog.concat_ws(' ',
           'create policy', pg_catalog.quote_ident(p.polname), 'on', pg_catalog.format('%I.%I', n.nspname, c.relname),
           'as', case when p.polpermissive then 'permissive' else 'restrictive' end,
           'for', case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                                when 'd' then 'delete' else 'all' end,
           'to', (select pg_catalog.string_agg(r.name, ', ' order by r.name collate "C")
                  from (select case when x = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x)) end as name
                        from pg_catalog.unnest(p.polroles) as x) as r),
           'using (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')',
           'with check (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')') as definition
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where p.polrelid = any ($1::oid[])`;

const functionsSql = `
  select pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) as signature,
         pg_catalog.format('%I.%I', n.nspname, p.proname) as name,
         pg_catalog.pg_get_functiondef(p.oid) as definition,
         pg_catalog.obj_description(p.oid, 'pg_proc') as comment,
         ${grantsOf("p.proacl", "f", "p.proowner")} as grants
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = any ($1::text[]) and p.prokind in ('f', 'p')
    and ${notExtensionMember("pg_catalog.pg_proc", "p.oid")}`;

const triggersSql = `
  select pg_catalog.format('%I.%I', tn.nspname, c.relname) as table_name, t.tgname::text as name,
         pg_catalog.format('%I.%I', fn.nspname, f.proname) as function,
         pg_catalog.pg_get_triggerdef(t.oid) as definition, t.tgenabled <> 'D' as enabled
  from pg_catalog.pg_trigger t
  join pg_catalog.pg_class c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace tn on tn.oid = c.relnamespace
  join pg_catalog.pg_proc f on f.oid = t.tgfoid
  join pg_catalog.pg_namespace fn on fn.oid = f.pronamespace
  where not t.tgisinternal
    and (t.tgrelid = any ($1::oid[]) or (fn.nspname = any ($2::text[]) and ${notExtensionMember("pg_catalog.pg_proc", "f.oid")}))`;

// pgmq's own indexes on a queue table: the message id (primary key, not listed here), the visibility
// time, the archive time. Real pgmq and the compat SQL name them alike; anything else is ours.
function isPgmqOwnIndex(name: string): boolean {
  return /^(q_.+_vt_idx|archived_at_idx_.+|a_.+_archived_at_idx|q_.+_msg_id_idx|a_.+_msg_id_idx)$/.test(name);
}

/**
 * Reads the state of a live database into a {@link SchemaState}: the tables, views, functions,
 * triggers and policies of our schemas (public, automation, analytics, extension members left
 * out), triggers elsewhere that execute our functions, the cron job definitions and cron.job, and
 * the pgmq queue names. Only reads the catalogs; needs a role that can see them (the owner,
 * `postgres` on Supabase).
 *
 * Definitions are deparsed with `search_path = pg_catalog`, so they name every object with its
 * schema whatever the caller's search_path; the setting is restored afterwards (on a pool, one
 * client is checked out for the duration).
 *
 * ### Examples
 * ```ts
 * import { compareSchema, createPool, introspectSchema, loadDatabaseConfig, loadExpectedSchema } from "@balansity/db";
 *
 * const pool = createPool(loadDatabaseConfig(process.env));
 * const { differences, foreign } = compareSchema(loadExpectedSchema(), await introspectSchema(pool));
 * await pool.end();
 * ```
 */
export async function introspectSchema(db: SchemaQueryable): Promise<SchemaState> {
  const pool = db as Partial<pg.Pool>;
  // A pool hands each query to any of its clients: the search_path must be set on the one used.
  if (typeof pool.totalCount === "number" && typeof pool.connect === "function") {
    const client = await pool.connect();
    try {
      return await withCatalogSearchPath(client);
    } finally {
      client.release();
    }
  }
  return withCatalogSearchPath(db);
}

async function withCatalogSearchPath(db: SchemaQueryable): Promise<SchemaState> {
  const { rows } = await db.query<{ search_path: string }>(
    "select pg_catalog.current_setting('search_path') as search_path",
  );
  const previous = rows[0]?.search_path ?? "";
  await db.query("select pg_catalog.set_config('search_path', 'pg_catalog', false)");
  try {
    return await readState(db);
  } finally {
    await db.query("select pg_catalog.set_config('search_path', $1, false)", [previous]);
  }
}

interface TableRow {
  oid: string;
  name: string;
  kind: "table" | "view";
  row_security: boolean;
  comment: string | null;
  grants: GrantState[];
}

async function readState(db: SchemaQueryable): Promise<SchemaState> {
  const schemas = [...ownedSchemas];
  const tableRows = (await db.query<TableRow>(tablesSql, [schemas])).rows;
  const oids = tableRows.map((row) => row.oid);

  const columns = groupBy(
    (
      await db.query<{
        oid: string;
        name: string;
        type: string;
        not_null: boolean;
        default: string | null;
        identity: string;
        generated: string | null;
        comment: string | null;
        grants: GrantState[];
      }>(columnsSql, [oids])
    ).rows,
    (row) => row.oid,
    (row): ColumnState => ({
      name: row.name,
      type: row.type,
      notNull: row.not_null,
      default: row.default,
      identity: row.identity === "a" || row.identity === "d" ? row.identity : "",
      generated: row.generated,
      grants: sortGrants(row.grants),
      comment: row.comment,
    }),
  );
  const constraints = groupBy(
    (await db.query<ConstraintState & { oid: string }>(constraintsSql, [oids])).rows,
    (row) => row.oid,
    ({ name, type, definition }): ConstraintState => ({ name, type, definition }),
  );
  const indexRows = (
    await db.query<{ oid: string; table_name: string; schema: string; name: string; definition: string }>(
      indexesSql,
      [oids],
    )
  ).rows.filter((row) => row.schema !== "pgmq" || !isPgmqOwnIndex(row.name));
  const indexes = groupBy(
    indexRows.filter((row) => row.schema !== "pgmq"),
    (row) => row.oid,
    ({ name, definition }): NamedDefinition => ({ name, definition }),
  );
  const policies = groupBy(
    (await db.query<NamedDefinition & { oid: string }>(policiesSql, [oids])).rows,
    (row) => row.oid,
    ({ name, definition }): NamedDefinition => ({ name, definition }),
  );

  const tables: TableState[] = tableRows.map((row) => ({
    name: row.name,
    kind: row.kind,
    rowSecurity: row.row_security,
    columns: columns.get(row.oid) ?? [],
    constraints: sortByName(constraints.get(row.oid) ?? []),
    indexes: sortByName(indexes.get(row.oid) ?? []),
    policies: sortByName(policies.get(row.oid) ?? []),
    grants: sortGrants(row.grants),
    comment: row.comment,
  }));
  const functions = (await db.query<FunctionState>(functionsSql, [schemas])).rows.map(
    (row): FunctionState => ({ ...row, grants: sortGrants(row.grants) }),
  );
  const triggers = (
    await db.query<Omit<TriggerState, "table"> & { table_name: string }>(triggersSql, [oids, schemas])
  ).rows.map(
    ({ table_name, name, function: fn, definition, enabled }): TriggerState => ({
      table: table_name,
      name,
      function: fn,
      definition,
      enabled,
    }),
  );

  return {
    tables: tables.sort((a, b) => byText(a.name, b.name)),
    queueIndexes: sortByName(
      indexRows
        .filter((row) => row.schema === "pgmq")
        .map(({ name, definition }): NamedDefinition => ({ name, definition })),
    ),
    functions: functions.sort((a, b) => byText(a.signature, b.signature)),
    triggers: triggers.sort((a, b) => byText(a.table, b.table) || byText(a.name, b.name)),
    cronJobs: await readCronJobs(db),
    scheduledCronJobs: await readScheduledCronJobs(db),
    queues: await readQueues(db),
  };
}

async function readCronJobs(db: SchemaQueryable): Promise<CronJobState[]> {
  if (!(await exists(db, "select pg_catalog.to_regclass('automation.cron_jobs') is not null"))) return [];
  const { rows } = await db.query<CronJobState>(
    "select name::text as name, schedule::text as schedule, command::text as command, enabled from automation.cron_jobs",
  );
  return rows.sort((a, b) => byText(a.name, b.name));
}

async function readScheduledCronJobs(db: SchemaQueryable): Promise<CronJobState[] | null> {
  if (!(await exists(db, "select exists (select from pg_catalog.pg_extension where extname = 'pg_cron')"))) {
    return null;
  }
  const { rows } = await db.query<CronJobState>(
    "select coalesce(jobname, '') as name, schedule, command, active as enabled from cron.job",
  );
  return rows.sort((a, b) => byText(a.name, b.name));
}

async function readQueues(db: SchemaQueryable): Promise<string[]> {
  if (!(await exists(db, "select pg_catalog.to_regprocedure('pgmq.list_queues()') is not null"))) return [];
  const { rows } = await db.query<{ name: string }>(
    "select queue_name::text as name from pgmq.list_queues()",
  );
  return rows.map((row) => row.name).sort(byText);
}

async function exists(db: SchemaQueryable, sql: string): Promise<boolean> {
  const { rows } = await db.query<{ answer: boolean }>(`${sql} as answer`);
  return rows[0]?.answer === true;
}

function groupBy<R, T>(rows: readonly R[], key: (row: R) => string, map: (row: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row)) ?? [];
    list.push(map(row));
    groups.set(key(row), list);
  }
  return groups;
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return items.sort((a, b) => byText(a.name, b.name));
}

function sortGrants(grants: readonly GrantState[]): GrantState[] {
  return grants
    .map((grant) => ({ grantee: grant.grantee, privileges: [...grant.privileges].sort(byText) }))
    .sort((a, b) => byText(a.grantee, b.grantee));
}
