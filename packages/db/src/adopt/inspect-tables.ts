/**
 * Compares tables that already exist with what the pending migrations would create.
 *
 * The expected shape is not parsed from SQL: the migrations' own `create table`, `create function`
 * and `alter table … add constraint` statements for those tables run in a scratch schema inside a
 * transaction that is always rolled back, and the catalog is read from there. Nothing is written.
 */
import type pg from "pg";
import type { MigrationFile } from "../migrations/migration-files.ts";
import { splitSqlStatements } from "../migrations/sql-statements.ts";
import type { AdoptionBlocker } from "./adopt-errors.ts";
import { formatName, type QualifiedName, statementTarget } from "./migration-targets.ts";

const SCRATCH = "adopt_scratch_public";

/** A column a migration defines that the live table lacks: added (it can be) or a blocker. */
export interface ColumnToAdd {
  readonly name: string;
  readonly definition: string;
}

export interface ConstraintToAdd {
  readonly name: string;
  readonly definition: string;
  /** `not valid` (check, foreign key): existing rows are not checked when it is added. */
  readonly notValid: boolean;
  /** Rows that break a check constraint now: how many and their ids (the first 20). */
  readonly violations?: { readonly count: number; readonly ids: readonly string[] };
}

export interface TableReport {
  readonly table: QualifiedName;
  readonly rows: number;
  /** Columns the live table has and the migrations do not define: kept. */
  readonly extraColumns: readonly string[];
  readonly addColumns: readonly ColumnToAdd[];
  readonly addConstraints: readonly ConstraintToAdd[];
  /** Differences kept as they are (e.g. a nullable column the migrations declare not null). */
  readonly notes: readonly string[];
}

interface ColumnRow {
  name: string;
  type: string;
  not_null: boolean;
  default_expr: string | null;
}

interface ConstraintRow {
  name: string;
  type: string;
  definition: string;
  columns: string[];
}

/** The migrations' tables that already exist in `public`, each compared with its definition. */
export async function inspectExistingTables(
  client: pg.ClientBase,
  files: readonly MigrationFile[],
): Promise<{ tables: TableReport[]; blockers: AdoptionBlocker[] }> {
  const existing = await existingPublicTables(client);
  const created = files.flatMap((file) =>
    splitSqlStatements(file.content).flatMap((statement) => {
      const target = statementTarget(statement);
      return target.kind === "table" ? [target.table] : [];
    }),
  );
  const blockers: AdoptionBlocker[] = [];
  const toCompare = created.filter((table) => {
    if (table.schema === "public") return existing.has(table.name);
    return false;
  });
  for (const table of created.filter((t) => t.schema !== "public")) {
    const { rows } = await client.query<{ found: boolean }>("select to_regclass($1) is not null as found", [
      formatName(table),
    ]);
    if (rows[0]?.found) {
      blockers.push({
        object: formatName(table),
        expected: "no table yet (a migration creates it)",
        found: "a table made outside the migrations",
      });
    }
  }
  if (toCompare.length === 0) return { tables: [], blockers };

  const names = new Set(toCompare.map((t) => t.name));
  const tables: TableReport[] = [];
  await client.query("begin");
  try {
    await client.query(`create schema ${SCRATCH}`);
    await client.query("set local check_function_bodies = off");
    for (const file of files) {
      for (const statement of splitSqlStatements(file.content)) {
        const target = statementTarget(statement);
        const scratchText = toScratch(statement.text);
        if (target.kind === "function" && target.function.schema === "public") {
          await inSavepoint(
            client,
            scratchText.replace(/^create\s+function\s/i, "create or replace function "),
          );
        } else if (
          target.kind === "table" &&
          target.table.schema === "public" &&
          names.has(target.table.name)
        ) {
          await client.query(scratchText);
        } else if (
          target.kind === "add-constraint" &&
          target.table.schema === "public" &&
          names.has(target.table.name)
        ) {
          await client.query(scratchText);
        }
      }
    }
    await client.query("set local search_path = ''");
    for (const table of toCompare) {
      tables.push(await compareTable(client, table, blockers));
    }
  } finally {
    await client.query("rollback");
  }
  return { tables, blockers };
}

async function existingPublicTables(client: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    "select c.relname as name from pg_catalog.pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')",
  );
  return new Set(rows.map((r) => r.name));
}

/** The statement with `public.` pointing at the scratch schema. */
function toScratch(text: string): string {
  return text.replace(/\b(?:public|"public")\s*\./gi, `${SCRATCH}.`);
}

/** From the scratch schema's names back to `public`. */
function fromScratch(text: string): string {
  return text.replaceAll(`${SCRATCH}.`, "public.");
}

async function inSavepoint(client: pg.ClientBase, sql: string): Promise<void> {
  await client.query("savepoint adopt_scratch");
  try {
    await client.query(sql);
    await client.query("release savepoint adopt_scratch");
  } catch {
    await client.query("rollback to savepoint adopt_scratch");
  }
}

async function columns(client: pg.ClientBase, regclass: string): Promise<Map<string, ColumnRow>> {
  const { rows } = await client.query<ColumnRow>(
    `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid) as default_expr
     from pg_catalog.pg_attribute a
     left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
     order by a.attnum`,
    [regclass],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

async function constraints(client: pg.ClientBase, regclass: string): Promise<ConstraintRow[]> {
  const { rows } = await client.query<ConstraintRow>(
    `select c.conname as name, c.contype::text as type, pg_catalog.pg_get_constraintdef(c.oid) as definition,
            array(select a.attname::text from unnest(c.conkey) as k (n)
                  join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n) as columns
     from pg_catalog.pg_constraint c
     where c.conrelid = $1::regclass and c.contype in ('c', 'f', 'u', 'p')
     order by c.conname`,
    [regclass],
  );
  return rows;
}

/** Types that hold the same values for what the automation does with them. */
function typeFamily(type: string): string {
  if (/^(text|character varying(\(\d+\))?|character(\(\d+\))?|bpchar|name|citext)$/.test(type)) return "text";
  if (/^numeric(\(\d+,\s*\d+\))?$/.test(type)) return "numeric";
  if (/^(smallint|integer|bigint)$/.test(type)) return "integer";
  return type;
}

async function compareTable(
  client: pg.ClientBase,
  table: QualifiedName,
  blockers: AdoptionBlocker[],
): Promise<TableReport> {
  const live = `public.${quoteIdent(table.name)}`;
  const scratch = `${SCRATCH}.${quoteIdent(table.name)}`;
  const expectedColumns = await columns(client, scratch);
  const liveColumns = await columns(client, live);
  const addColumns: ColumnToAdd[] = [];
  const notes: string[] = [];
  for (const [name, expected] of expectedColumns) {
    const found = liveColumns.get(name);
    const object = `${table.name}.${name}`;
    if (found === undefined) {
      if (expected.not_null && expected.default_expr === null) {
        blockers.push({ object, expected: `${expected.type} not null`, found: "no such column" });
        continue;
      }
      const defaultText =
        expected.default_expr === null ? "" : ` default ${fromScratch(expected.default_expr)}`;
      addColumns.push({
        name,
        definition: `${quoteIdent(name)} ${expected.type}${defaultText}${expected.not_null ? " not null" : ""}`,
      });
      continue;
    }
    if (typeFamily(found.type) !== typeFamily(expected.type)) {
      blockers.push({ object, expected: expected.type, found: found.type });
      continue;
    }
    if (found.type !== expected.type)
      notes.push(`${name} is ${found.type} (the migrations say ${expected.type}): kept`);
    if (expected.not_null && !found.not_null)
      notes.push(`${name} allows null (the migrations say not null): kept`);
  }
  const extraColumns = [...liveColumns.keys()].filter((name) => !expectedColumns.has(name));

  const liveConstraints = await constraints(client, live);
  const liveNames = new Set(liveConstraints.map((c) => c.name));
  const addConstraints: ConstraintToAdd[] = [];
  const idColumn = liveColumns.has("id") ? "id" : "ctid";
  for (const expected of await constraints(client, scratch)) {
    const definition = fromScratch(expected.definition);
    if (expected.type === "p") {
      const pk = liveConstraints.find((c) => c.type === "p");
      if (pk === undefined || pk.columns.join(",") !== expected.columns.join(",")) {
        blockers.push({
          object: `${table.name} primary key`,
          expected: `(${expected.columns.join(", ")})`,
          found: pk === undefined ? "none" : `(${pk.columns.join(", ")})`,
        });
      }
      continue;
    }
    if (liveNames.has(expected.name)) {
      const found = liveConstraints.find((c) => c.name === expected.name);
      if (found && found.definition !== definition)
        notes.push(`constraint ${expected.name} differs (${found.definition}): kept`);
      continue;
    }
    if (expected.type === "u") {
      const duplicates = await countDuplicates(client, live, expected.columns, liveColumns);
      if (duplicates > 0) {
        blockers.push({
          object: `${table.name}.${expected.name}`,
          expected: `unique (${expected.columns.join(", ")})`,
          found: `${duplicates} duplicated value(s)`,
        });
        continue;
      }
      addConstraints.push({ name: expected.name, definition, notValid: false });
      continue;
    }
    if (expected.type === "c") {
      const violations = await checkViolations(
        client,
        live,
        expected.definition,
        expectedColumns,
        liveColumns,
        idColumn,
      );
      addConstraints.push(
        violations === undefined
          ? { name: expected.name, definition, notValid: true }
          : { name: expected.name, definition, notValid: true, violations },
      );
      continue;
    }
    addConstraints.push({ name: expected.name, definition, notValid: true });
  }
  const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from ${live}`);
  return {
    table,
    rows: Number(rows[0]?.n ?? 0),
    extraColumns,
    addColumns,
    addConstraints,
    notes,
  };
}

async function countDuplicates(
  client: pg.ClientBase,
  live: string,
  columnNames: readonly string[],
  liveColumns: ReadonlyMap<string, ColumnRow>,
): Promise<number> {
  if (!columnNames.every((name) => liveColumns.has(name))) return 0;
  const cols = columnNames.map(quoteIdent).join(", ");
  const notNull = columnNames.map((c) => `${quoteIdent(c)} is not null`).join(" and ");
  const { rows } = await client.query<{ n: string }>(
    `select count(*)::text as n from (select ${cols} from ${live} where ${notNull} group by ${cols} having count(*) > 1) d`,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Rows of the live table that break a check constraint, with columns still to be added standing in
 * at their defaults (as they will be once added). The expression is the scratch one: functions it
 * calls exist in the scratch schema.
 */
async function checkViolations(
  client: pg.ClientBase,
  live: string,
  scratchDefinition: string,
  expectedColumns: ReadonlyMap<string, ColumnRow>,
  liveColumns: ReadonlyMap<string, ColumnRow>,
  idColumn: string,
): Promise<{ count: number; ids: string[] } | undefined> {
  const expression = /^CHECK \(([\s\S]*)\)( NOT VALID)?$/.exec(scratchDefinition)?.[1];
  if (expression === undefined) return undefined;
  const standIns = [...expectedColumns.values()]
    .filter((c) => !liveColumns.has(c.name))
    .map((c) => `, (${c.default_expr ?? "null"})::${c.type} as ${quoteIdent(c.name)}`)
    .join("");
  // A column of another type (a blocker reported on its own) can make the expression fail.
  await client.query("savepoint adopt_violations");
  try {
    const { rows } = await client.query<{ id: string }>(
      `select t.${idColumn}::text as id from (select r.*, r.ctid${standIns} from ${live} r) t
       where not coalesce((${expression}), true) order by 1`,
    );
    await client.query("release savepoint adopt_violations");
    return { count: rows.length, ids: rows.slice(0, 20).map((r) => r.id) };
  } catch {
    await client.query("rollback to savepoint adopt_violations");
    return undefined;
  }
}

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
