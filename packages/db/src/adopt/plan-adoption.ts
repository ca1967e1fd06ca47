/**
 * The adoption plan: what `db:adopt` would do to a database whose objects were made outside the
 * migration runner (the seed-era SQL applied by hand, the app's own tables), read-only.
 *
 * Per pending migration (one step, one transaction when applied):
 *   - tables it creates that exist: kept with rows and extra columns; missing columns added;
 *     missing constraints added (check and foreign key `not valid`, with the rows that break them);
 *     a needed column missing or of another type blocks adoption (inspect-tables.ts)
 *   - functions it is the first to define that exist under that name (any arguments): dropped
 *     first and created as the migration defines them, under the same name (no overload left
 *     beside ours); triggers firing them are dropped with them when a migration creates the
 *     table's triggers, anything else depending on them blocks adoption
 *   - indexes that exist: kept; triggers and policies of our names: replaced
 *   - cron jobs: scheduled by name (pg_cron's cron.schedule updates a job of the same name)
 * Objects that are not the migrations' are listed as kept and never touched.
 */
import type pg from "pg";
import type { MigrationFile } from "../migrations/migration-files.ts";
import { type AppliedMigration, matchesFile } from "../migrations/migration-history.ts";
import { splitSqlStatements } from "../migrations/sql-statements.ts";
import type { AdoptionBlocker } from "./adopt-errors.ts";
import { inspectExistingTables, type TableReport } from "./inspect-tables.ts";
import { formatName, type QualifiedName, statementTarget } from "./migration-targets.ts";

export interface FunctionReplacement {
  /** The existing function, `public.name(argument types)`. */
  readonly existing: string;
  readonly oid: number;
}

export interface TriggerDrop {
  readonly name: string;
  readonly table: string;
  readonly fires: string;
}

export interface AdoptionStep {
  readonly file: MigrationFile;
  /** Existing tables this file creates: what is kept and what is added. */
  readonly tables: readonly TableReport[];
  /** Existing functions dropped and created again as this file defines them. */
  readonly replaceFunctions: readonly FunctionReplacement[];
  /** Triggers that fire a replaced function; the migrations create their own. */
  readonly dropTriggers: readonly TriggerDrop[];
  /** Existing triggers and policies of the names this file creates: replaced by its own. */
  readonly replaceObjects: readonly string[];
  /** Existing indexes this file creates: kept. */
  readonly keepIndexes: readonly string[];
}

export interface CronPlan {
  /** Where pg_cron is installed (null: not here; the worker's scheduler runs the jobs). */
  readonly schema: string | null;
  /** Jobs of our names that exist: updated by name. */
  readonly updated: readonly string[];
  /** Jobs that are not ours: kept, with their run history. */
  readonly foreign: readonly string[];
  /** 039 moves pg_cron to pg_catalog (only when no job but ours exists) or leaves it. */
  readonly move: "none" | "move" | "stay";
}

export interface AdoptionPlan {
  readonly steps: readonly AdoptionStep[];
  readonly alreadyApplied: readonly string[];
  readonly blockers: readonly AdoptionBlocker[];
  readonly cron: CronPlan;
  /** Functions in public that no migration defines: not ours, kept. */
  readonly foreignFunctions: readonly string[];
}

/** Reads the database and plans the adoption of `files` not recorded in `history`. Writes nothing. */
export async function planAdoption(
  client: pg.ClientBase,
  files: readonly MigrationFile[],
  history: ReadonlyMap<string, AppliedMigration>,
): Promise<AdoptionPlan> {
  const blockers: AdoptionBlocker[] = [];
  const alreadyApplied: string[] = [];
  const pending: MigrationFile[] = [];
  for (const file of files) {
    const applied = history.get(file.version);
    if (applied === undefined) pending.push(file);
    else if (matchesFile(applied, file) === false) {
      blockers.push({
        object: `migration ${file.fileName}`,
        expected: "the text it was applied with",
        found: "a changed file (migrations are immutable)",
      });
    } else alreadyApplied.push(file.fileName);
  }

  const { tables, blockers: tableBlockers } = await inspectExistingTables(client, pending);
  blockers.push(...tableBlockers);

  const ours = new Set(
    files
      .filter((file) => !pending.includes(file))
      .flatMap((file) => functionNames(file))
      .map(formatName),
  );
  const tablesWithOurTriggers = new Set(
    files.flatMap((file) =>
      splitSqlStatements(file.content).flatMap((s) => {
        const target = statementTarget(s);
        return target.kind === "trigger" ? [formatName(target.table)] : [];
      }),
    ),
  );

  const dropped = new Set<string>();
  const steps: AdoptionStep[] = [];
  for (const file of pending) {
    const replaceFunctions: FunctionReplacement[] = [];
    const dropTriggers: TriggerDrop[] = [];
    for (const fn of functionNames(file)) {
      const key = formatName(fn);
      if (ours.has(key)) continue;
      ours.add(key);
      for (const existing of await overloads(client, fn)) {
        replaceFunctions.push(existing);
        for (const dependent of await dependents(client, existing.oid)) {
          if (dependent.trigger !== null && tablesWithOurTriggers.has(dependent.trigger.table)) {
            dropTriggers.push({ ...dependent.trigger, fires: existing.existing });
            dropped.add(`${dependent.trigger.name} on ${dependent.trigger.table}`);
          } else {
            blockers.push({
              object: `function ${existing.existing}`,
              expected: "nothing but triggers on the automation's tables depending on it (it is replaced)",
              found: dependent.description,
            });
          }
        }
      }
    }
    const replaceObjects: string[] = [];
    const keepIndexes: string[] = [];
    for (const statement of splitSqlStatements(file.content)) {
      const target = statementTarget(statement);
      if (target.kind === "trigger" || target.kind === "policy") {
        const label = `${target.name} on ${formatName(target.table)}`;
        if (dropped.has(label)) continue;
        if (await objectExists(client, target.kind, target.name, target.table))
          replaceObjects.push(`${target.kind} ${label}`);
      } else if (target.kind === "index") {
        const { rows } = await client.query<{ found: boolean }>(
          "select to_regclass($1) is not null as found",
          [`${target.table.schema}.${target.name}`],
        );
        if (rows[0]?.found) keepIndexes.push(`${target.table.schema}.${target.name}`);
      }
    }
    const created = new Set(
      splitSqlStatements(file.content).flatMap((s) => {
        const target = statementTarget(s);
        return target.kind === "table" ? [formatName(target.table)] : [];
      }),
    );
    steps.push({
      file,
      tables: tables.filter((t) => created.has(formatName(t.table))),
      replaceFunctions,
      dropTriggers,
      replaceObjects,
      keepIndexes,
    });
  }

  return {
    steps,
    alreadyApplied,
    blockers,
    cron: await planCron(client, files),
    foreignFunctions: await foreignFunctions(client, files),
  };
}

/** Functions a file creates (schema-qualified names), in order, once each. */
function functionNames(file: MigrationFile): QualifiedName[] {
  const seen = new Set<string>();
  const names: QualifiedName[] = [];
  for (const statement of splitSqlStatements(file.content)) {
    const target = statementTarget(statement);
    if (target.kind !== "function") continue;
    const key = formatName(target.function);
    if (seen.has(key)) continue;
    seen.add(key);
    names.push(target.function);
  }
  return names;
}

async function overloads(client: pg.ClientBase, fn: QualifiedName): Promise<FunctionReplacement[]> {
  const { rows } = await client.query<{ existing: string; oid: number }>(
    `select pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' ||
            pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as existing, p.oid::int as oid
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = $1 and p.proname = $2 order by p.oid`,
    [fn.schema, fn.name],
  );
  return rows;
}

async function dependents(
  client: pg.ClientBase,
  oid: number,
): Promise<{ trigger: { name: string; table: string } | null; description: string }[]> {
  const { rows } = await client.query<{
    trigger_name: string | null;
    trigger_table: string | null;
    description: string;
  }>(
    `select t.tgname as trigger_name,
            (select n.nspname || '.' || c.relname from pg_catalog.pg_class c
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = t.tgrelid) as trigger_table,
            pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) as description
     from pg_catalog.pg_depend d
     left join pg_catalog.pg_trigger t on d.classid = 'pg_catalog.pg_trigger'::regclass and t.oid = d.objid
     where d.refclassid = 'pg_catalog.pg_proc'::regclass and d.refobjid = $1 and d.deptype = 'n'`,
    [oid],
  );
  return rows.map((r) => ({
    trigger:
      r.trigger_name !== null && r.trigger_table !== null
        ? { name: r.trigger_name, table: r.trigger_table }
        : null,
    description: r.description,
  }));
}

export async function objectExists(
  client: pg.ClientBase,
  kind: "trigger" | "policy",
  name: string,
  table: QualifiedName,
): Promise<boolean> {
  const sql =
    kind === "trigger"
      ? "select exists (select from pg_catalog.pg_trigger where tgname = $1 and tgrelid = to_regclass($2) and not tgisinternal) as found"
      : "select exists (select from pg_catalog.pg_policy where polname = $1 and polrelid = to_regclass($2)) as found";
  const { rows } = await client.query<{ found: boolean }>(sql, [name, `${table.schema}.${table.name}`]);
  return rows[0]?.found ?? false;
}

/** Job names the migrations schedule: the rows 030 (and later files) insert into automation.cron_jobs. */
function ourJobNames(files: readonly MigrationFile[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (const statement of splitSqlStatements(file.content)) {
      if (!/^insert\s+into\s+automation\.cron_jobs\b/i.test(statement.text)) continue;
      for (const match of statement.text.matchAll(/\(\s*'([a-z][a-z0-9-]*)'\s*,/g)) names.add(match[1] ?? "");
    }
  }
  return names;
}

async function planCron(client: pg.ClientBase, files: readonly MigrationFile[]): Promise<CronPlan> {
  const { rows } = await client.query<{ schema: string | null }>(
    "select (select e.extnamespace::regnamespace::text from pg_catalog.pg_extension e where e.extname = 'pg_cron') as schema",
  );
  const schema = rows[0]?.schema ?? null;
  if (schema === null) return { schema, updated: [], foreign: [], move: "none" };
  const ours = ourJobNames(files);
  const jobs = await client.query<{ name: string }>(
    "select coalesce(jobname, jobid::text) as name from cron.job order by jobid",
  );
  const updated = jobs.rows.map((j) => j.name).filter((name) => ours.has(name));
  const foreign = jobs.rows.map((j) => j.name).filter((name) => !ours.has(name));
  const move = schema === "pg_catalog" ? "none" : foreign.length > 0 ? "stay" : "move";
  return { schema, updated, foreign, move };
}

async function foreignFunctions(client: pg.ClientBase, files: readonly MigrationFile[]): Promise<string[]> {
  const ours = new Set(files.flatMap((file) => functionNames(file)).map(formatName));
  const { rows } = await client.query<{ name: string; signature: string }>(
    `select 'public.' || p.proname as name, 'public.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as signature
     from pg_catalog.pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
     order by 1, 2`,
  );
  return rows.filter((r) => !ours.has(r.name)).map((r) => r.signature);
}
