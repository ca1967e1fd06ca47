/**
 * `db:adopt`: brings a database whose objects were made outside the migration runner under it.
 *
 *   plan (read-only) ─► blockers? stop, nothing written ─► per pending migration, one transaction:
 *     begin; lock; recorded meanwhile? skip
 *     drop the triggers firing functions it replaces; drop those functions (every overload)
 *     its statements, each as written except: an existing table → the missing columns and
 *     constraints (not valid) instead of `create table`; an existing index → kept; a trigger or
 *     policy of the same name → dropped first; `create function` → `create or replace function`;
 *     constraints added to an existing table → `not valid`
 *     record it in supabase_migrations.schema_migrations (the text `db:migrate` compares)
 *     commit
 *
 * The run holds the runner's session lock, so `db:migrate` and a second adopt wait. A second run
 * finds every migration recorded: nothing to do. On a database the runner made, adopt is the same
 * as `db:migrate`.
 */
import type pg from "pg";
import type { DatabaseConfig } from "../database-config.ts";
import { type MigrationFile, readMigrationFiles } from "../migrations/migration-files.ts";
import {
  ensureHistoryTable,
  lockMigrations,
  readApplied,
  readHistory,
  recordMigration,
} from "../migrations/migration-history.ts";
import { type MigrationLog, silentLog } from "../migrations/migration-log.ts";
import { connect, lockRun, type MigrationTarget } from "../migrations/run-migrations.ts";
import { splitSqlStatements } from "../migrations/sql-statements.ts";
import { compareSchema, type SchemaComparison } from "../schema-state/compare-schema.ts";
import { introspectSchema } from "../schema-state/introspect-schema.ts";
import { loadExpectedSchema } from "../schema-state/schema-files.ts";
import { AdoptionBlockedError } from "./adopt-errors.ts";
import { type AdoptionBackup, backupReplacedObjects } from "./backup-replaced-objects.ts";
import { quoteIdent, type TableReport } from "./inspect-tables.ts";
import { createOrReplace, formatName, statementTarget } from "./migration-targets.ts";
import { type AdoptionPlan, type AdoptionStep, objectExists, planAdoption } from "./plan-adoption.ts";

export type AdoptOptions = MigrationTarget & {
  readonly directory: string;
  readonly log?: MigrationLog;
  /** Back up what adoption replaces and the tables it alters here first (backup-replaced-objects.ts). */
  readonly backupDirectory?: string;
  /** Progress lines (`[2/14] 030_setup_cron_jobs.sql …`); none when absent. */
  readonly progress?: (line: string) => void;
};

/** Plans without writing anything (`--dry-run`). */
export async function planDatabaseAdoption(options: AdoptOptions): Promise<AdoptionPlan> {
  const log = options.log ?? silentLog;
  const files = await readMigrationFiles(options.directory, log);
  const { client } = await connect(options, log);
  try {
    return await planAdoption(client, files, await historyIfAny(client));
  } finally {
    await client.end();
  }
}

export interface AdoptResult {
  readonly plan: AdoptionPlan;
  /** Files applied by this run, in order. */
  readonly applied: readonly string[];
  /** The database afterwards against supabase/schema.json: what of ours differs, what is not ours. */
  readonly verification: SchemaComparison;
  /** Where the backup went, when one was asked for and there was something to do. */
  readonly backup?: AdoptionBackup;
}

/** Plans, refuses on any blocker (nothing written), then applies step by step. */
export async function adoptDatabase(options: AdoptOptions): Promise<AdoptResult> {
  const log = options.log ?? silentLog;
  const progress = options.progress ?? (() => {});
  const files = await readMigrationFiles(options.directory, log);
  const { client, config } = await connect(options, log);
  try {
    await lockSession(client, config, log);
    const plan = await planAdoption(client, files, await historyIfAny(client));
    if (plan.blockers.length > 0) throw new AdoptionBlockedError(plan.blockers);
    if (plan.steps.length === 0) return { plan, applied: [], verification: await verify(client) };
    let backup: AdoptionBackup | undefined;
    if (options.backupDirectory !== undefined) {
      backup = await backupReplacedObjects(client, config, plan, {
        directory: options.backupDirectory,
        stamp: new Date().toISOString().replace(/[:.]/g, "-"),
        warn: (message) => log.warn(message),
      });
      progress(`backup: ${backup.files.join(", ")}`);
    }
    await ensureHistoryTable(client);
    const applied: string[] = [];
    for (const [index, step] of plan.steps.entries()) {
      progress(`[${index + 1}/${plan.steps.length}] ${step.file.fileName} …`);
      if (await applyStep(client, step)) {
        applied.push(step.file.fileName);
        progress(`[${index + 1}/${plan.steps.length}] ${step.file.fileName} done`);
      } else {
        progress(
          `[${index + 1}/${plan.steps.length}] ${step.file.fileName} was applied meanwhile by another run`,
        );
      }
    }
    return {
      plan,
      applied,
      verification: await verify(client),
      ...(backup === undefined ? {} : { backup }),
    };
  } finally {
    await client.end();
  }
}

/** Compares the database with the state the migrations make (supabase/schema.json). */
async function verify(client: pg.ClientBase): Promise<SchemaComparison> {
  return compareSchema(loadExpectedSchema(), await introspectSchema(client));
}

async function lockSession(client: pg.Client, config: DatabaseConfig, log: MigrationLog): Promise<void> {
  if (config.pooler.mode === "session") await lockRun(client, log);
  else log.info("transaction pool mode: adoption is serialised per step, not per run");
}

async function historyIfAny(client: pg.ClientBase) {
  const { rows } = await client.query<{ found: boolean }>(
    "select to_regclass('supabase_migrations.schema_migrations') is not null as found",
  );
  return rows[0]?.found ? readHistory(client) : new Map();
}

async function applyStep(client: pg.Client, step: AdoptionStep): Promise<boolean> {
  const file = step.file;
  await client.query("begin");
  try {
    await lockMigrations(client);
    if ((await readApplied(client, file.version)) !== undefined) {
      await client.query("commit");
      return false;
    }
    for (const trigger of step.dropTriggers) {
      await client.query(`drop trigger ${quoteIdent(trigger.name)} on ${trigger.table}`);
    }
    for (const fn of step.replaceFunctions) {
      await client.query(`drop function ${fn.existing}`);
    }
    const tables = new Map(step.tables.map((t) => [formatName(t.table), t]));
    for (const statement of splitSqlStatements(file.content)) {
      const sql = await adoptedStatement(client, statement.text, tables);
      if (sql === undefined) continue;
      try {
        await client.query(sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(
          `adopt: ${file.fileName} line ${statement.line} failed: ${reason}\n  ${statement.text.split("\n")[0] ?? ""}\n` +
            "nothing of this step was applied (its transaction is rolled back); the steps before it are",
        );
      }
    }
    await recordMigration(client, file);
    await client.query("commit");
    await client.query("reset all; reset role");
    return true;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
}

/** The statement as adoption runs it, or undefined to skip it (its object is already there). */
async function adoptedStatement(
  client: pg.ClientBase,
  text: string,
  tables: ReadonlyMap<string, TableReport>,
): Promise<string | undefined> {
  const target = statementTarget({ text, start: 0, end: text.length, line: 1, words: [] });
  switch (target.kind) {
    case "table": {
      const report = tables.get(formatName(target.table));
      if (report === undefined) return text;
      return prepareTable(report);
    }
    case "index": {
      const { rows } = await client.query<{ found: boolean }>("select to_regclass($1) is not null as found", [
        `${target.table.schema}.${target.name}`,
      ]);
      return rows[0]?.found ? undefined : text;
    }
    case "trigger":
    case "policy": {
      if (!(await objectExists(client, target.kind, target.name, target.table))) return text;
      return `drop ${target.kind} ${quoteIdent(target.name)} on ${formatName(target.table)};\n${text}`;
    }
    case "function":
      return createOrReplace(text);
    case "add-constraint": {
      const { rows } = await client.query<{ name: string }>(
        "select conname as name from pg_catalog.pg_constraint where conrelid = to_regclass($1)",
        [formatName(target.table)],
      );
      const existing = new Set(rows.map((r) => r.name));
      // Constraints on a table that existed were added (not valid) where the table would have been
      // created; one that is still missing is added as written.
      return target.names.every((name) => existing.has(name)) ? undefined : text;
    }
    default:
      return text;
  }
}

/**
 * What stands in for `create table` of a table that exists: its missing columns and constraints.
 * Check constraints go in `not valid`; those no row breaks are then validated (a lock that lets
 * reads and writes go on), so only the ones the plan reported rows for stay `not valid`.
 */
function prepareTable(report: TableReport): string | undefined {
  const table = formatName(report.table);
  const clauses = [
    ...report.addColumns.map((column) => `add column ${column.definition}`),
    ...report.addConstraints.map(
      (constraint) =>
        `add constraint ${quoteIdent(constraint.name)} ${constraint.definition}${constraint.notValid ? " not valid" : ""}`,
    ),
  ];
  if (clauses.length === 0) return undefined;
  const validations = report.addConstraints
    .filter((constraint) => constraint.notValid && constraint.violations?.count === 0)
    .map((constraint) => `alter table ${table} validate constraint ${quoteIdent(constraint.name)}`);
  return [`alter table ${table} ${clauses.join(",\n  ")}`, ...validations].join(";\n");
}

export type { MigrationFile };
