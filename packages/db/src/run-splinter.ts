import type pg from "pg";

/** One row of Supabase's database advisors (splinter): a lint's name, its level and what it found. */
export interface SplinterFinding {
  readonly name: string;
  readonly level: string;
  readonly detail: string;
}

/** A splinter file that would not run: the database's own message (a missing Supabase object, say). */
export class SplinterRunError extends Error {
  readonly code = "splinter_failed";
}

/**
 * Runs a splinter file the operator supplies (our repository ships none: its text is Supabase's) against
 * a database and returns its findings. Two forms are accepted:
 *
 * - `splinter.sql`, the union of every lint as one query (optionally after `set local` statements): the
 *   findings are the rows of its last statement;
 * - lint files as splinter keeps them (`create view lint."00NN_<name>" as …`, one or several): the views
 *   are created in a schema `lint`, and the findings are the rows of every view there.
 *
 * Everything runs in a transaction that is rolled back: nothing is left in the database.
 */
export async function runSplinter(client: pg.ClientBase, sqlText: string): Promise<SplinterFinding[]> {
  await client.query("begin");
  try {
    const views = /create\s+view\s+lint\./i.test(sqlText);
    if (views) await client.query("create schema if not exists lint");
    const result = (await client.query(sqlText).catch((error: unknown) => {
      throw new SplinterRunError(error instanceof Error ? error.message : String(error), { cause: error });
    })) as pg.QueryResult | pg.QueryResult[];
    const rows = views ? await rowsOfLintViews(client) : lastRows(result);
    return rows.map((row) => ({
      name: String(row.name),
      level: String(row.level),
      detail: String(row.detail),
    }));
  } finally {
    await client.query("rollback");
  }
}

function lastRows(result: pg.QueryResult | pg.QueryResult[]): Record<string, unknown>[] {
  const results = Array.isArray(result) ? result : [result];
  const last = results.at(-1);
  if (
    !last?.fields.some((field) => field.name === "name") ||
    !last.fields.some((field) => field.name === "level")
  ) {
    throw new SplinterRunError(
      "the file's last statement does not return splinter's columns (name, level, detail)",
    );
  }
  return last.rows;
}

async function rowsOfLintViews(client: pg.ClientBase): Promise<Record<string, unknown>[]> {
  const { rows: views } = await client.query<{ view: string }>(
    `select c.relname as view from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'lint' and c.relkind = 'v' order by c.relname`,
  );
  const rows: Record<string, unknown>[] = [];
  for (const { view } of views) {
    const { rows: found } = await client.query(
      `select name, level, detail from lint.${client.escapeIdentifier(view)}`,
    );
    rows.push(...found);
  }
  return rows;
}

/** `3 ERROR, 14 WARN, 40 INFO`, then one line per lint: `WARN  authenticated_security_definer_function_executable  14`. */
export function summarizeSplinter(findings: readonly SplinterFinding[]): string {
  const levels = ["ERROR", "WARN", "INFO"];
  const byLevel = levels.map((level) => `${findings.filter((f) => f.level === level).length} ${level}`);
  const counts = new Map<string, number>();
  for (const finding of findings) {
    const key = `${finding.level.padEnd(5)}  ${finding.name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const order = (key: string) => levels.indexOf(key.slice(0, 5).trim());
  const lines = [...counts.entries()]
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([key, count]) => `  ${key}  ${count}`);
  return [byLevel.join(", "), ...lines].join("\n");
}
