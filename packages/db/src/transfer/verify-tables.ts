import type pg from "pg";
import { displayName, qualified, quoteIdent, type TablePlan } from "./table-catalog.ts";

/** Row count and content checksum of one side of a table. */
export interface TableDigest {
  readonly rows: number;
  /** Order-independent: the sum of each row's md5 (first 64 bits), as text. */
  readonly checksum: string;
}

/** Target rows whose foreign key points at no row (possible when triggers and checks were skipped). */
export interface OrphanRows {
  readonly constraint: string;
  /** The referenced table, e.g. `auth.users`. */
  readonly references: string;
  readonly rows: number;
}

/** The verification of one table: source against target. */
export interface TableVerification {
  readonly source: string;
  readonly target: string;
  readonly sourceDigest: TableDigest;
  readonly targetDigest: TableDigest;
  /** Foreign keys of the target table with rows that reference nothing. */
  readonly orphans: readonly OrphanRows[];
  /** Same rows, same content, and no orphans. */
  readonly equal: boolean;
}

/**
 * Computes a table's digest over the copied columns, in the source's column order. Both sides
 * render values with the same settings (UTC, ISO dates, exact floats, hex bytea), so equal contents
 * give equal checksums whatever the servers' defaults.
 */
export async function digestTable(
  client: pg.ClientBase,
  table: TablePlan["source"],
  columns: TablePlan["columns"],
): Promise<TableDigest> {
  const columnList = columns.map((column) => quoteIdent(column.name)).join(", ");
  await client.query("begin isolation level repeatable read read only");
  try {
    await client.query(
      "set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'; set local intervalstyle = 'postgres'; " +
        "set local extra_float_digits = 3; set local bytea_output = 'hex'",
    );
    const { rows } = await client.query<{ rows: string; checksum: string }>(
      `select count(*)::text as rows,
              coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint), 0)::text as checksum
         from (select ${columnList} from ${qualified(table)}) as t`,
    );
    await client.query("commit");
    return { rows: Number(rows[0]?.rows ?? 0), checksum: rows[0]?.checksum ?? "0" };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** Compares every planned table, source against target. */
export async function verifyTables(
  source: pg.ClientBase,
  target: pg.ClientBase,
  plans: readonly TablePlan[],
): Promise<TableVerification[]> {
  const results: TableVerification[] = [];
  for (const plan of plans) {
    const sourceDigest = await digestTable(source, plan.source, plan.columns);
    const targetDigest = await digestTable(target, plan.target, plan.columns);
    const orphans = await findOrphans(target, plan.target);
    results.push({
      source: displayName(plan.source),
      target: displayName(plan.target),
      sourceDigest,
      targetDigest,
      orphans,
      equal:
        sourceDigest.rows === targetDigest.rows &&
        sourceDigest.checksum === targetDigest.checksum &&
        orphans.length === 0,
    });
  }
  return results;
}

/**
 * Checks every foreign key of a target table (MATCH SIMPLE: rows with a null in the key are not
 * checked). Copying with triggers skipped does not check foreign keys, so a table copied without
 * the table it references (`public.profiles` without `auth.users`) is caught here.
 */
async function findOrphans(client: pg.ClientBase, table: TablePlan["target"]): Promise<OrphanRows[]> {
  const { rows: constraints } = await client.query<{
    name: string;
    parent: string;
    child_columns: string[];
    parent_columns: string[];
  }>(
    `select c.conname as name, c.confrelid::regclass::text as parent,
            array(select quote_ident(a.attname) from unnest(c.conkey) with ordinality k(n, i)
                    join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as child_columns,
            array(select quote_ident(a.attname) from unnest(c.confkey) with ordinality k(n, i)
                    join pg_catalog.pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) as parent_columns
       from pg_catalog.pg_constraint c
      where c.contype = 'f' and c.conrelid = to_regclass($1)
      order by c.conname`,
    [qualified(table)],
  );
  const orphans: OrphanRows[] = [];
  for (const constraint of constraints) {
    const notNull = constraint.child_columns.map((column) => `child.${column} is not null`).join(" and ");
    const match = constraint.child_columns
      .map((column, i) => `parent.${constraint.parent_columns[i]} = child.${column}`)
      .join(" and ");
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from ${qualified(table)} as child
        where ${notNull} and not exists (select 1 from ${constraint.parent} as parent where ${match})`,
    );
    const count = rows[0]?.n ?? 0;
    if (count > 0) orphans.push({ constraint: constraint.name, references: constraint.parent, rows: count });
  }
  return orphans;
}
