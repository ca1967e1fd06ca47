/**
 * A schema-only "dump" and a row dump of a database, read from the catalog, so two moments can be
 * compared on any server (pg_dump of the system's PostgreSQL cannot read the embedded 17). TEST USE.
 *
 * Schema: every relation with its columns, defaults, constraints, indexes, triggers, policies and
 * grants; every function with its arguments, body, settings and grants; extensions and their
 * schemas; cron jobs. Rows: every row of every table (not pg_catalog / information_schema), as JSON.
 */
import type pg from "pg";

const SCHEMA_QUERIES: readonly string[] = [
  `select 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity
          || ' acl=' || coalesce(c.relacl::text, '')
   from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'i', 'f')`,
  `select 'column ' || c.oid::regclass::text || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
          || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
          || ' acl=' || coalesce(a.attacl::text, '')
   from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
   join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and a.attnum > 0 and not a.attisdropped
     and c.relkind in ('r', 'p', 'v', 'm', 'f')`,
  `select 'constraint ' || c.conrelid::regclass::text || '.' || c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
   from pg_catalog.pg_constraint c join pg_catalog.pg_namespace n on n.oid = c.connamespace
   where n.nspname not in ('pg_catalog', 'information_schema')`,
  `select 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
   from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
   join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`,
  `select 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
   from pg_catalog.pg_trigger t where not t.tgisinternal`,
  `select 'policy ' || p.polrelid::regclass::text || '.' || p.polname || ' ' || p.polcmd::text || ' '
          || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || ' '
          || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') || ' roles=' || p.polroles::text
   from pg_catalog.pg_policy p`,
  `select 'function ' || n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_arguments(p.oid) || ') '
          || pg_catalog.pg_get_function_result(p.oid) || ' secdef=' || p.prosecdef
          || ' config=' || coalesce(p.proconfig::text, '') || ' acl=' || coalesce(p.proacl::text, '')
          || ' body=' || md5(p.prosrc)
   from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname not in ('pg_catalog', 'information_schema')`,
  `select 'extension ' || e.extname || ' ' || e.extversion || ' in ' || e.extnamespace::regnamespace::text
   from pg_catalog.pg_extension e`,
  `select 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '')
   from pg_catalog.pg_namespace n where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'`,
];

/** The schema, one sorted line per object. */
export async function schemaSnapshot(client: pg.ClientBase): Promise<string[]> {
  const lines: string[] = [];
  for (const sql of SCHEMA_QUERIES) {
    const { rows } = await client.query<{ line: string }>(`select line from (${sql}) as s (line)`);
    lines.push(...rows.map((r) => r.line));
  }
  return lines.sort();
}

/** Every row of every ordinary table, as `schema.table <json>` lines, sorted. */
export async function rowSnapshot(client: pg.ClientBase): Promise<string[]> {
  const { rows: tables } = await client.query<{ name: string }>(
    `select pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) as name
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
     order by 1`,
  );
  const lines: string[] = [];
  for (const { name } of tables) {
    const { rows } = await client.query<{ line: string }>(`select to_jsonb(t)::text as line from ${name} t`);
    lines.push(...rows.map((r) => `${name} ${r.line}`));
  }
  return lines.sort();
}
