import type pg from "pg";
import { exposedSchemas } from "../api-allow-list.ts";
import { TransferError } from "./transfer-errors.ts";

/** A schema-qualified table name. */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** A copied column: its name and its type as `format_type` spells it (`timestamp with time zone`). */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** One table to copy: where it comes from, where it goes, its columns and its primary key. */
export interface TablePlan {
  readonly source: TableName;
  readonly target: TableName;
  /** Copied columns, in the source's order (generated columns are left to the target to compute). */
  readonly columns: readonly ColumnInfo[];
  /** Primary key columns, in key order: batches are key ranges, so a table needs one. */
  readonly key: readonly ColumnInfo[];
  /** The target lacks the table and `--create-tables` creates it (create-target-tables.ts). */
  readonly create?: boolean;
}

/** `"schema"."name"`, quoted for SQL. */
export function qualified(table: TableName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** `schema.name`, for people. */
export function displayName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Resolves what to copy: `tables` (`schema.table`, `schema.*`, or a bare name in the first source
 * schema), or every table of the source schemas when empty. Each source table is mapped to its
 * target through `schemaMap` and checked against the target: it must exist and have every copied
 * column with the same type. The result is in foreign-key order (referenced tables first).
 */
export async function planTables(
  source: pg.ClientBase,
  target: pg.ClientBase,
  options: {
    readonly tables: readonly string[];
    readonly schemaMap: ReadonlyMap<string, string>;
    /** Copy into a table of a schema the API exposes even when its row-level security is off. */
    readonly allowNoRls?: boolean;
    /** A target table that does not exist is to be created from the source's (not an error). */
    readonly createTables?: boolean;
  },
): Promise<TablePlan[]> {
  const sourceSchemas = options.schemaMap.size > 0 ? [...options.schemaMap.keys()] : ["public"];
  const selected = await selectTables(source, options.tables, sourceSchemas);
  const problems: string[] = [];
  const plans: TablePlan[] = [];
  for (const table of selected) {
    const columns = await readColumns(source, table);
    const key = await readPrimaryKey(source, table, columns);
    const mapped = { schema: options.schemaMap.get(table.schema) ?? table.schema, name: table.name };
    if (key.length === 0) {
      problems.push(
        `${displayName(table)} has no primary key: the transfer copies in key order to be idempotent and resumable`,
      );
      continue;
    }
    const targetColumns = await readColumns(target, mapped);
    if (targetColumns.length === 0 && options.createTables) {
      plans.push({ source: table, target: mapped, columns, key, create: true });
      continue;
    }
    if (targetColumns.length === 0) {
      problems.push(
        `${displayName(mapped)} does not exist in the target (source ${displayName(table)}): ` +
          "apply the migrations to the target first (pnpm db:migrate), map the schema with --schema-map, " +
          "or pass --create-tables to create it from the source's definition (row-level security on, no policy)",
      );
      continue;
    }
    if (!options.allowNoRls && (exposedSchemas as readonly string[]).includes(mapped.schema)) {
      const { rows } = await target.query<{ rls: boolean }>(
        `select c.relrowsecurity as rls from pg_catalog.pg_class c
           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relname = $2`,
        [mapped.schema, mapped.name],
      );
      if (rows[0]?.rls === false) {
        problems.push(
          `${displayName(mapped)} has row-level security off, and schema ${mapped.schema} is exposed through the API: ` +
            "anyone with the anon key could read the rows copied into it. Enable it first " +
            `(alter table ${qualified(mapped)} enable row level security; with the policies it needs), ` +
            "or pass --allow-no-rls to copy anyway",
        );
      }
    }
    const byName = new Map(targetColumns.map((column) => [column.name, column.type]));
    for (const column of columns) {
      const type = byName.get(column.name);
      if (type === undefined) {
        problems.push(`${displayName(mapped)} has no column ${column.name} (source ${displayName(table)})`);
      } else if (!sameType(type, column.type, table.schema, mapped.schema)) {
        problems.push(
          `${displayName(mapped)}.${column.name} is ${type} but the source's is ${column.type}: the types must match`,
        );
      }
    }
    plans.push({ source: table, target: mapped, columns, key });
  }
  if (problems.length > 0) throw new TransferError("transfer_plan_invalid", problems);
  return orderByForeignKeys(source, plans);
}

/** Equal types, counting `ai.status` and `public.status` (or plain `status`) as one when `ai` maps to `public`. */
function sameType(
  targetType: string,
  sourceType: string,
  sourceSchema: string,
  targetSchema: string,
): boolean {
  if (targetType === sourceType) return true;
  const strip = (type: string, schema: string) =>
    type.startsWith(`${schema}.`)
      ? type.slice(schema.length + 1)
      : type.startsWith(`${quoteIdent(schema)}.`)
        ? type.slice(schema.length + 3)
        : type;
  return strip(targetType, targetSchema) === strip(sourceType, sourceSchema);
}

async function selectTables(
  client: pg.ClientBase,
  requested: readonly string[],
  defaultSchemas: readonly string[],
): Promise<TableName[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
      order by 1, 2`,
  );
  const all = rows.map((row) => ({ schema: row.schema, name: row.name }));
  if (requested.length === 0) return all.filter((table) => defaultSchemas.includes(table.schema));
  const chosen: TableName[] = [];
  const missing: string[] = [];
  for (const spec of requested) {
    const dot = spec.indexOf(".");
    const schema = dot < 0 ? (defaultSchemas[0] ?? "public") : spec.slice(0, dot);
    const name = dot < 0 ? spec : spec.slice(dot + 1);
    const found = all.filter((table) => table.schema === schema && (name === "*" || table.name === name));
    if (found.length === 0) missing.push(`${schema}.${name}`);
    for (const table of found) {
      if (!chosen.some((other) => other.schema === table.schema && other.name === table.name))
        chosen.push(table);
    }
  }
  if (missing.length > 0) {
    throw new TransferError(
      "transfer_plan_invalid",
      missing.map((spec) => `--tables ${spec}: no such table in the source`),
    );
  }
  return chosen;
}

async function readColumns(client: pg.ClientBase, table: TableName): Promise<ColumnInfo[]> {
  const { rows } = await client.query<ColumnInfo>(
    `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
       from pg_catalog.pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
    [qualified(table)],
  );
  return rows;
}

async function readPrimaryKey(
  client: pg.ClientBase,
  table: TableName,
  columns: readonly ColumnInfo[],
): Promise<ColumnInfo[]> {
  const { rows } = await client.query<{ name: string }>(
    `select a.attname as name
       from pg_catalog.pg_constraint k
       cross join lateral unnest(k.conkey) with ordinality as key(attnum, position)
       join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = key.attnum
      where k.conrelid = to_regclass($1) and k.contype = 'p'
      order by key.position`,
    [qualified(table)],
  );
  return rows.map((row) => {
    const column = columns.find((candidate) => candidate.name === row.name);
    if (!column)
      throw new TransferError("transfer_plan_invalid", [
        `${displayName(table)}: key column ${row.name} is generated`,
      ]);
    return column;
  });
}

/** Referenced tables before the tables that reference them; a cycle is an error naming its tables. */
async function orderByForeignKeys(client: pg.ClientBase, plans: TablePlan[]): Promise<TablePlan[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `select conrelid::regclass::text as child, confrelid::regclass::text as parent
       from pg_catalog.pg_constraint
      where contype = 'f' and conrelid <> confrelid`,
  );
  const byRegclass = new Map<string, TablePlan>();
  for (const plan of plans) {
    const { rows: found } = await client.query<{ name: string }>("select to_regclass($1)::text as name", [
      qualified(plan.source),
    ]);
    byRegclass.set(found[0]?.name ?? "", plan);
  }
  const parents = new Map<TablePlan, Set<TablePlan>>(plans.map((plan) => [plan, new Set()]));
  for (const { child, parent } of rows) {
    const childPlan = byRegclass.get(child);
    const parentPlan = byRegclass.get(parent);
    if (childPlan && parentPlan) parents.get(childPlan)?.add(parentPlan);
  }
  const ordered: TablePlan[] = [];
  const placed = new Set<TablePlan>();
  while (ordered.length < plans.length) {
    const ready = plans.filter(
      (plan) => !placed.has(plan) && [...(parents.get(plan) ?? [])].every((parent) => placed.has(parent)),
    );
    if (ready.length === 0) {
      const cycle = plans.filter((plan) => !placed.has(plan)).map((plan) => displayName(plan.source));
      throw new TransferError("transfer_plan_invalid", [
        `foreign keys form a cycle between ${cycle.join(", ")}: copy these tables in separate runs, or drop and re-add one constraint`,
      ]);
    }
    for (const plan of ready) {
      ordered.push(plan);
      placed.add(plan);
    }
  }
  return ordered;
}
