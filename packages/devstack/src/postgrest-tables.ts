import type pg from "pg";

// The table part of PostgREST that supabase-js' from() uses in the tests: read, insert and update
// rows of public tables as the caller's role, so grants and RLS decide, as on Supabase.
//
//   GET   /rest/v1/<table>?select=a,b&col=eq.v&order=col.desc&limit=n
//   POST  /rest/v1/<table>?select=…           body: an object or an array of objects
//   PATCH /rest/v1/<table>?col=eq.v&select=…  body: an object
//
// Filters: eq, neq, gt, gte, lt, lte, is.null / is.not_null (`not.is.null`). `Prefer:
// return=representation` returns the written rows; without it POST answers 201 and PATCH 204.

/** A query the request turned into: text, parameters, and whether it returns rows to the caller. */
export interface TableQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly returnsRows: boolean;
  readonly status: number;
}

export class TableRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const OPERATORS: Record<string, string> = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" };
const RESERVED = new Set(["select", "order", "limit", "offset", "columns", "on_conflict"]);

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TableRequestError("PGRST100", `"${name}" is not a column name`);
  return `"${name}"`;
}

function selectList(params: URLSearchParams): string {
  const select = params.get("select") ?? "*";
  if (select.trim() === "*") return "pg_catalog.to_jsonb(_row)";
  const columns = select.split(",").map((column) => column.trim());
  return `pg_catalog.jsonb_build_object(${columns
    .map((column) => `'${column}', _row.${identifier(column)}`)
    .join(", ")})`;
}

function whereClause(params: URLSearchParams, values: unknown[]): string {
  // Columns are qualified with the row alias: in an update, `_new` has the same names.
  const conditions: string[] = [];
  for (const [key, raw] of params) {
    if (RESERVED.has(key)) continue;
    const column = `_row.${identifier(key)}`;
    if (raw === "is.null" || raw === "not.is.null") {
      conditions.push(`${column} is ${raw === "is.null" ? "" : "not "}null`);
      continue;
    }
    const dot = raw.indexOf(".");
    const operator = OPERATORS[raw.slice(0, dot)];
    if (dot < 0 || operator === undefined) {
      throw new TableRequestError("PGRST100", `"${key}=${raw}": only eq, neq, gt, gte, lt, lte and is.null`);
    }
    values.push(raw.slice(dot + 1));
    conditions.push(`${column} ${operator} $${values.length}`);
  }
  return conditions.length === 0 ? "" : ` where ${conditions.join(" and ")}`;
}

function orderAndLimit(params: URLSearchParams): string {
  let sql = "";
  const order = params.get("order");
  if (order) {
    sql += ` order by ${order
      .split(",")
      .map((part) => {
        const [column = "", direction = "asc"] = part.split(".");
        if (direction !== "asc" && direction !== "desc") {
          throw new TableRequestError("PGRST100", `order "${part}": asc or desc`);
        }
        return `${identifier(column)} ${direction}`;
      })
      .join(", ")}`;
  }
  for (const name of ["limit", "offset"] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (!/^\d{1,9}$/.test(value)) throw new TableRequestError("PGRST100", `${name} must be a number`);
    sql += ` ${name} ${value}`;
  }
  return sql;
}

/** The SQL for one table request; values are bound as parameters, identifiers checked and quoted. */
export function tableQuery(
  method: string,
  table: string,
  params: URLSearchParams,
  body: unknown,
  returnRepresentation: boolean,
): TableQuery {
  const target = `public.${identifier(table)}`;
  const values: unknown[] = [];
  if (method === "GET") {
    const where = whereClause(params, values);
    return {
      text: `select ${selectList(params)} as value from ${target} as _row${where}${orderAndLimit(params)}`,
      values,
      returnsRows: true,
      status: 200,
    };
  }
  const rows = Array.isArray(body) ? body : [body];
  if (
    rows.length === 0 ||
    rows.some((row) => typeof row !== "object" || row === null || Array.isArray(row))
  ) {
    throw new TableRequestError("PGRST102", "the body must be an object or an array of objects");
  }
  const columns = Object.keys(rows[0] as object).map(identifier);
  if (columns.length === 0) throw new TableRequestError("PGRST102", "the body names no column");
  const returning = returnRepresentation ? ` returning ${selectList(params)} as value` : "";
  if (method === "POST") {
    values.push(JSON.stringify(rows));
    return {
      text: `insert into ${target} as _row (${columns.join(", ")})
             select ${columns.join(", ")} from pg_catalog.json_populate_recordset(null::${target}, $1::pg_catalog.json)${returning}`,
      values,
      returnsRows: returnRepresentation,
      status: 201,
    };
  }
  if (method === "PATCH") {
    values.push(JSON.stringify(rows[0]));
    const where = whereClause(params, values);
    if (where === "") throw new TableRequestError("PGRST100", "an update needs a filter");
    return {
      text: `update ${target} as _row set ${columns.map((column) => `${column} = _new.${column}`).join(", ")}
             from pg_catalog.json_populate_record(null::${target}, $1::pg_catalog.json) as _new${where}${returning}`,
      values,
      returnsRows: returnRepresentation,
      status: returnRepresentation ? 200 : 204,
    };
  }
  throw new TableRequestError("PGRST101", `${method} on a table is not offered by this test server`);
}

/** Runs a table query in the caller's transaction; the rows as JSON values. */
export async function runTableQuery(client: pg.PoolClient, query: TableQuery): Promise<unknown[]> {
  const result = await client.query<{ value: unknown }>(query.text, [...query.values]);
  return query.returnsRows ? result.rows.map((row) => row.value) : [];
}
