import type pg from "pg";
import { displayName, qualified, quoteIdent, type TablePlan } from "./table-catalog.ts";

/** Row count and content checksum of one side of a table. */
export interface TableDigest {
  readonly rows: number;
  /** Order-independent: the sum of each row's md5 (first 64 bits), as text. */
  readonly checksum: string;
}

/** The verification of one table: source against target. */
export interface TableVerification {
  readonly source: string;
  readonly target: string;
  readonly sourceDigest: TableDigest;
  readonly targetDigest: TableDigest;
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
    results.push({
      source: displayName(plan.source),
      target: displayName(plan.target),
      sourceDigest,
      targetDigest,
      equal: sourceDigest.rows === targetDigest.rows && sourceDigest.checksum === targetDigest.checksum,
    });
  }
  return results;
}
