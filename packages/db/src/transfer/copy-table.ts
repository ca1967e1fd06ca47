/**
 * Copies one table in key-ordered batches, each one transaction on the target:
 *
 *   source: the key of the batch's last row  (keyset: `(k1, k2) > last`, `offset batch - 1 limit 1`)
 *   target: begin
 *           set local session_replication_role = replica   -- unless --triggers fire
 *           create temp table stage (...) on commit drop
 *           copy stage from stdin  ◄── copy (select ... where last < key <= upper order by key) to stdout
 *           insert into target select * from stage on conflict do nothing
 *           record the batch's last key in balansity_transfer.progress
 *           commit
 *
 * Rows already in the target (an earlier run, a partial import) are skipped, not duplicated, and a
 * killed run resumes after the last committed batch. Temporary tables that drop at commit and
 * `set local` keep every batch inside its own transaction, so this also works through a
 * transaction-mode pooler (Supabase's port 6543).
 */
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import { displayName, qualified, quoteIdent, type TablePlan } from "./table-catalog.ts";
import { TransferError } from "./transfer-errors.ts";
import { readProgress, recordProgress } from "./transfer-progress.ts";

export interface CopyTableOptions {
  /** Rows per batch (one transaction each). */
  readonly batchSize: number;
  /** Identifies the source database in the progress table. */
  readonly sourceId: string;
  /** `skip`: target triggers (and foreign-key checks) do not fire for copied rows. */
  readonly triggers: "skip" | "fire";
  /** Called after each committed batch with the rows it read from the source. */
  readonly onBatch?: (rows: number) => void;
}

export interface CopyTableResult {
  /** Rows this run inserted into the target. */
  readonly inserted: number;
  /** Rows this run read but the target already held (same key). */
  readonly skipped: number;
  /** Rows an earlier, interrupted run had copied (not read again). */
  readonly resumedAfter: number;
}

export async function copyTable(
  source: pg.Client,
  target: pg.Client,
  plan: TablePlan,
  options: CopyTableOptions,
): Promise<CopyTableResult> {
  const sourceName = displayName(plan.source);
  const targetName = displayName(plan.target);
  const progress = await readProgress(target, options.sourceId, sourceName, targetName);
  const keyList = plan.key.map((column) => quoteIdent(column.name)).join(", ");
  // Aliased: ORDER BY a bare name would otherwise sort by the text output column, not the key.
  const keyText = plan.key.map((column, i) => `${quoteIdent(column.name)}::text as key_${i}`).join(", ");
  const columnList = plan.columns.map((column) => quoteIdent(column.name)).join(", ");
  const literal = (values: readonly string[]) =>
    values.map((value, i) => `${source.escapeLiteral(value)}::${plan.key[i]?.type ?? "text"}`).join(", ");

  let last = progress.lastKey;
  let inserted = 0;
  let skipped = 0;
  for (;;) {
    const after = last === null ? "true" : `(${keyList}) > (${literal(last)})`;
    const upper =
      (await keyAt(source, `${after} order by ${keyList} offset ${options.batchSize - 1} limit 1`)) ??
      (await keyAt(source, `${after} order by ${keyList} desc limit 1`));
    if (upper === undefined) break;

    await target.query("begin");
    try {
      if (options.triggers === "skip") await skipTriggers(target);
      await target.query(
        `create temp table balansity_transfer_stage on commit drop as select ${columnList} from ${qualified(plan.target)} with no data`,
      );
      const into = target.query(
        copyStreams.from(`copy pg_temp.balansity_transfer_stage (${columnList}) from stdin`),
      );
      const out = source.query(
        copyStreams.to(
          `copy (select ${columnList} from ${qualified(plan.source)} where ${after} and (${keyList}) <= (${literal(upper)}) order by ${keyList}) to stdout`,
        ),
      );
      await pipeline(out, into);
      const read = into.rowCount;
      const result = await target.query(
        `insert into ${qualified(plan.target)} (${columnList})
         select ${columnList} from pg_temp.balansity_transfer_stage on conflict do nothing`,
      );
      const added = result.rowCount ?? 0;
      await recordProgress(target, options.sourceId, sourceName, targetName, upper, added);
      await target.query("commit");
      inserted += added;
      skipped += read - added;
      last = upper;
      options.onBatch?.(read);
    } catch (error) {
      await target.query("rollback").catch(() => undefined);
      throw error;
    }
  }
  return { inserted, skipped, resumedAfter: progress.rowsCopied };

  async function keyAt(client: pg.Client, rest: string): Promise<string[] | undefined> {
    const { rows } = await client.query<string[]>({
      text: `select ${keyText} from ${qualified(plan.source)} where ${rest}`,
      rowMode: "array",
    });
    return rows[0];
  }
}

/** `session_replication_role = replica` for this transaction: triggers and foreign-key checks do not fire. */
async function skipTriggers(target: pg.Client): Promise<void> {
  try {
    await target.query("set local session_replication_role = replica");
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
    throw new TransferError("transfer_plan_invalid", [
      "the target's role may not set session_replication_role, which keeps the target's triggers from firing for " +
        "copied rows: connect as a role that may (on Supabase, the postgres role through a direct connection or " +
        "the session pooler), or run with --triggers fire if the triggers may run for every copied row",
    ]);
  }
}
