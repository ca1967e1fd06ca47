import type pg from "pg";

/**
 * Resume state, kept in the target database (`balansity_transfer.progress`) and written in the same
 * transaction as each batch of rows: after a kill, a batch is either copied and recorded or
 * neither, so a resumed run starts exactly after the last committed batch.
 *
 * A row per (source database, source table, target table). `last_key` holds the key of the last
 * copied row as text, one element per key column. Drop the schema once a move is finished:
 * `drop schema balansity_transfer cascade`.
 */
export interface TableProgress {
  readonly lastKey: readonly string[] | null;
  readonly rowsCopied: number;
}

export async function ensureProgressTable(target: pg.ClientBase): Promise<void> {
  const { rows } = await target.query<{ exists: boolean }>(
    "select to_regnamespace('balansity_transfer') is not null as exists",
  );
  if (!rows[0]?.exists) {
    await target.query("create schema if not exists balansity_transfer");
    // Only its owner may comment on it: said once, when it is created.
    await target.query(
      "comment on schema balansity_transfer is 'resume state of pnpm db:transfer; drop it once the move is done'",
    );
  }
  await target.query(
    `create table if not exists balansity_transfer.progress (
       source text not null,
       source_table text not null,
       target_table text not null,
       last_key text[],
       rows_copied bigint not null default 0,
       updated_at timestamptz not null default now(),
       primary key (source, source_table, target_table)
     )`,
  );
}

export async function readProgress(
  target: pg.ClientBase,
  source: string,
  sourceTable: string,
  targetTable: string,
): Promise<TableProgress> {
  const { rows } = await target.query<{ last_key: string[] | null; rows_copied: string }>(
    `select last_key, rows_copied from balansity_transfer.progress
      where source = $1 and source_table = $2 and target_table = $3`,
    [source, sourceTable, targetTable],
  );
  const row = rows[0];
  return row
    ? { lastKey: row.last_key, rowsCopied: Number(row.rows_copied) }
    : { lastKey: null, rowsCopied: 0 };
}

/** Records a committed batch; call inside the batch's transaction. */
export async function recordProgress(
  target: pg.ClientBase,
  source: string,
  sourceTable: string,
  targetTable: string,
  lastKey: readonly string[],
  rowsCopied: number,
): Promise<void> {
  await target.query(
    `insert into balansity_transfer.progress as p (source, source_table, target_table, last_key, rows_copied)
     values ($1, $2, $3, $4, $5)
     on conflict (source, source_table, target_table)
     do update set last_key = excluded.last_key, rows_copied = p.rows_copied + excluded.rows_copied, updated_at = now()`,
    [source, sourceTable, targetTable, lastKey, rowsCopied],
  );
}

/** Forgets the resume state of these tables (`--restart`). */
export async function clearProgress(target: pg.ClientBase, source: string): Promise<void> {
  await target.query("delete from balansity_transfer.progress where source = $1", [source]);
}
