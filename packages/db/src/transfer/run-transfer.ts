/**
 * `pnpm db:transfer`: copies tables from one database to another, safely enough to repeat.
 *
 *   plan ─► backup the target's tables ─► copy each table (foreign-key order, batches) ─► verify
 *
 * - plan: which tables, where each goes (`--schema-map ai=public`), checked against the target
 *   before anything is written (see table-catalog.ts); with `--create-tables` a table the target
 *   lacks is created from the source's definition, row-level security on (create-target-tables.ts);
 * - backup: pg_dump, else a compressed JSON export (backup-tables.ts);
 * - copy: keyset batches through COPY, one transaction each, skipping rows the target already has
 *   and recording progress in the target, so a re-run copies nothing twice and a killed run
 *   resumes (copy-table.ts);
 * - verify: per table, row count and content checksum of source and target (verify-tables.ts).
 */
import pg from "pg";
import { explainConnectionError } from "../connection-error.ts";
import type { DatabaseConfig } from "../database-config.ts";
import { toPoolConfig } from "../pool-config.ts";
import { type BackupMethod, type BackupResult, backupTables } from "./backup-tables.ts";
import { type CopyTableResult, copyTable } from "./copy-table.ts";
import { createTargetTables } from "./create-target-tables.ts";
import { createProgressBars } from "./progress-bars.ts";
import { displayName, planTables, qualified } from "./table-catalog.ts";
import { clearProgress, ensureProgressTable, readProgress } from "./transfer-progress.ts";
import { type TableVerification, verifyTables } from "./verify-tables.ts";

export interface TransferOptions {
  readonly from: DatabaseConfig;
  readonly to: DatabaseConfig;
  /** `schema.table`, `schema.*` or a bare name; empty = every table of the mapped source schemas (or `public`). */
  readonly tables: readonly string[];
  /** Source schema → target schema (`ai` → `public`). */
  readonly schemaMap: ReadonlyMap<string, string>;
  readonly batchSize: number;
  readonly backup: { readonly method: BackupMethod; readonly directory: string };
  /** `skip` (default): target triggers and foreign-key checks do not fire for copied rows. */
  readonly triggers: "skip" | "fire";
  /** Forget recorded progress and start from the first key (rows already there are still skipped). */
  readonly restart: boolean;
  /** Copy into tables of an API-exposed schema (`public`) whose row-level security is off; refused otherwise. */
  readonly allowNoRls?: boolean;
  /** Create a table the target lacks from the source's definition (row-level security on, no policy); an error otherwise. */
  readonly createTables?: boolean;
  readonly log: { info(message: string): void; warn(message: string): void };
  /** Where progress bars go (a terminal gets bars, anything else plain lines). */
  readonly progress: NodeJS.WriteStream;
  /** For file names; defaults to the current time. */
  readonly now?: () => Date;
}

export interface TableTransferReport extends CopyTableResult {
  readonly source: string;
  readonly target: string;
}

export interface TransferReport {
  readonly backup: BackupResult;
  readonly tables: readonly TableTransferReport[];
  readonly verification: readonly TableVerification[];
  /** True when every table's row count and checksum match. */
  readonly equal: boolean;
}

/**
 * Runs a transfer and returns its report; throws a `TransferError` when the plan or the backup
 * fails (nothing copied then), a `ConnectionError` when a database cannot be reached.
 *
 * ### Examples
 * ```ts
 * import { loadDatabaseConfig, runTransfer } from "@balansity/db";
 *
 * const report = await runTransfer({
 *   from: loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres@localhost:5432/legacy" }),
 *   to: loadDatabaseConfig({ DATABASE_URL: "postgresql://postgres@localhost:5432/postgres" }),
 *   tables: ["ai.message_instances", "ai.messages"],
 *   schemaMap: new Map([["ai", "public"]]),
 *   batchSize: 5000,
 *   backup: { method: "auto", directory: "transfer-backups" },
 *   triggers: "skip",
 *   restart: false,
 *   log: console,
 *   progress: process.stderr,
 * });
 * if (!report.equal) process.exitCode = 1;
 * ```
 */
export async function runTransfer(options: TransferOptions): Promise<TransferReport> {
  const source = await connect(options.from);
  try {
    const target = await connect(options.to);
    try {
      return await transfer(source, target, options);
    } finally {
      await target.end();
    }
  } finally {
    await source.end();
  }
}

async function connect(config: DatabaseConfig): Promise<pg.Client> {
  const client = new pg.Client({
    ...toPoolConfig(config),
    application_name: `${config.applicationName}-transfer`,
  });
  client.on("error", () => undefined); // a lost connection also fails the query in flight
  await client.connect().catch((error: unknown) => {
    throw explainConnectionError(error, config);
  });
  return client;
}

async function transfer(
  source: pg.Client,
  target: pg.Client,
  options: TransferOptions,
): Promise<TransferReport> {
  const { log } = options;
  const plans = await planTables(source, target, {
    tables: options.tables,
    schemaMap: options.schemaMap,
    allowNoRls: options.allowNoRls ?? false,
    createTables: options.createTables ?? false,
  });
  log.info(
    `tables in foreign-key order: ${plans
      .map((plan) =>
        displayName(plan.source) === displayName(plan.target)
          ? displayName(plan.source)
          : `${displayName(plan.source)} → ${displayName(plan.target)}`,
      )
      .join(", ")}`,
  );

  const created = await createTargetTables(source, target, plans, log.warn);
  if (created.length > 0) {
    log.info(
      `created in the target (row-level security on, no policy: write the policies it needs): ${created
        .map(displayName)
        .join(", ")}`,
    );
  }

  const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, "-");
  const backup = await backupTables(
    target,
    options.to,
    plans.map((plan) => plan.target),
    { ...options.backup, stamp, warn: log.warn },
  );
  log.info(`backup of the target's tables (${backup.method}): ${backup.file}`);

  const sourceId = `${options.from.host}:${options.from.port}/${options.from.database}`;
  await ensureProgressTable(target);
  if (options.restart) await clearProgress(target, sourceId);

  const bars = createProgressBars(options.progress);
  const tables: TableTransferReport[] = [];
  try {
    for (const plan of plans) {
      const { rows } = await source.query<{ n: string }>(
        `select count(*)::text as n from ${qualified(plan.source)}`,
      );
      const recorded = await readProgress(
        target,
        sourceId,
        displayName(plan.source),
        displayName(plan.target),
      );
      const bar = bars.table(displayName(plan.target), Number(rows[0]?.n ?? 0), recorded.rowsCopied);
      const result = await copyTable(source, target, plan, {
        batchSize: options.batchSize,
        sourceId,
        triggers: options.triggers,
        onBatch: (read) => bar.advance(read),
      });
      bar.finish();
      tables.push({ source: displayName(plan.source), target: displayName(plan.target), ...result });
    }
  } finally {
    bars.stop();
  }
  await resetSequences(target, plans);

  const verification = await verifyTables(source, target, plans);
  return { backup, tables, verification, equal: verification.every((table) => table.equal) };
}

/** Moves each serial / identity sequence of the copied tables past the largest copied value. */
async function resetSequences(
  target: pg.Client,
  plans: readonly { target: { schema: string; name: string } }[],
) {
  for (const plan of plans) {
    const table = qualified(plan.target);
    const { rows } = await target.query<{ column: string; sequence: string }>(
      `select a.attname as column, pg_get_serial_sequence($1, a.attname) as sequence
         from pg_catalog.pg_attribute a
        where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
          and pg_get_serial_sequence($1, a.attname) is not null`,
      [table],
    );
    for (const row of rows) {
      const column = `"${row.column.replaceAll('"', '""')}"`;
      await target.query(
        `select setval($1::regclass, coalesce((select max(${column}) from ${table}), 1),
                       (select max(${column}) from ${table}) is not null)`,
        [row.sequence],
      );
    }
  }
}
