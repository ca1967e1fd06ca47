/**
 * Before adoption changes anything: a copy of what it replaces and of the tables it alters, in a
 * folder of its own under the backup directory.
 *
 *   replaced-objects.sql   the functions and triggers it drops or replaces, as they were, and the
 *                          cron jobs it updates, with their commands as they were: run it (psql -1 -f)
 *                          to put the seed-era behaviour back (docs/adopt-existing-database.md, "Roll back")
 *   tables-*.dump | .jsonl.gz   the rows of the existing tables it adds columns and constraints to
 *                          (pg_dump when one can read the server, else a JSON export)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import type { DatabaseConfig } from "../database-config.ts";
import { backupTables } from "../transfer/backup-tables.ts";
import type { AdoptionPlan } from "./plan-adoption.ts";

export interface AdoptionBackup {
  readonly directory: string;
  readonly files: readonly string[];
}

export async function backupReplacedObjects(
  client: pg.ClientBase,
  config: DatabaseConfig,
  plan: AdoptionPlan,
  options: { readonly directory: string; readonly stamp: string; readonly warn: (message: string) => void },
): Promise<AdoptionBackup> {
  const directory = join(options.directory, `adopt-${options.stamp}`);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const lines = [
    "-- What db:adopt replaced, as it was before. Run in one transaction: psql -1 -v ON_ERROR_STOP=1 -f <this file>",
    "-- It drops the functions of these names (ours, with the triggers firing them) and creates the old ones again.",
  ];
  const names = new Set<string>();
  for (const step of plan.steps) {
    for (const fn of step.replaceFunctions) names.add(fn.existing.slice(0, fn.existing.indexOf("(")));
  }
  if (names.size > 0) {
    lines.push(
      "do $$",
      "declare f regprocedure;",
      "begin",
      "  for f in select p.oid::regprocedure from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace",
      `           where n.nspname || '.' || p.proname = any (array[${[...names].map((n) => `'${n.replaceAll('"', "")}'`).join(", ")}])`,
      "  loop",
      "    execute pg_catalog.format('drop function %s cascade', f);",
      "  end loop;",
      "end",
      "$$;",
    );
  }
  for (const step of plan.steps) {
    for (const fn of step.replaceFunctions) {
      const { rows } = await client.query<{ definition: string }>(
        "select pg_catalog.pg_get_functiondef($1::oid) as definition",
        [fn.oid],
      );
      lines.push(`${rows[0]?.definition ?? ""};`);
    }
  }
  for (const step of plan.steps) {
    for (const trigger of step.dropTriggers) {
      const { rows } = await client.query<{ definition: string }>(
        "select pg_catalog.pg_get_triggerdef(t.oid) as definition from pg_catalog.pg_trigger t where t.tgname = $1 and t.tgrelid = $2::regclass",
        [trigger.name, trigger.table],
      );
      if (rows[0]) lines.push(`${rows[0].definition};`);
    }
  }
  if (plan.cron.updated.length > 0) {
    const { rows } = await client.query<{ name: string; schedule: string; command: string }>(
      "select jobname as name, schedule, command from cron.job where jobname = any ($1) order by jobid",
      [plan.cron.updated],
    );
    for (const job of rows) {
      lines.push(
        `select cron.schedule(${literal(job.name)}, ${literal(job.schedule)}, ${literal(job.command)});`,
      );
    }
  }
  const sqlFile = join(directory, "replaced-objects.sql");
  writeFileSync(sqlFile, `${lines.join("\n")}\n`, { mode: 0o600 });
  const tables = plan.steps.flatMap((step) => step.tables.map((t) => t.table));
  const files = [sqlFile];
  if (tables.length > 0) {
    const result = await backupTables(client, config, tables, {
      method: "auto",
      directory,
      stamp: "tables",
      warn: options.warn,
    });
    files.push(result.file);
  }
  return { directory, files };
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
