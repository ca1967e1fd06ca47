/**
 * `pnpm db:adopt [--url <url>] [--dry-run] [--dir <path>]`: prints the adoption plan; without
 * --dry-run applies it. Exit codes: 0 done (or nothing to do), 1 failed, 2 usage, 3 blocked.
 */
import { parseArgs } from "node:util";
import { describeDatabaseConfig } from "../describe-database-config.ts";
import { loadDatabaseConfig } from "../load-database-config.ts";
import { migrationsDirectory } from "../migrations/migrations-directory.ts";
import { AdoptionBlockedError } from "./adopt-errors.ts";
import { formatPlan } from "./format-plan.ts";
import { adoptDatabase, planDatabaseAdoption } from "./run-adoption.ts";

export const ADOPT_USAGE = `usage: db adopt [--url <url>] [--dry-run] [--backup-dir <dir>] [--dir <path>]
                              bring a database whose objects were made by hand (the seed-era SQL, the
                              app's own tables) under the migrations: prints the plan (what is kept,
                              added, replaced, what blocks), then applies it, each migration in one
                              transaction; --dry-run prints the plan and writes nothing; --backup-dir
                              first saves what it replaces (replaced-objects.sql) and the
                              rows of the tables it alters there. DATABASE_URL
                              (or DATABASE_HOST, ...) when --url is not given`;

interface Output {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export async function adoptCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: Output,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: "string" },
      dir: { type: "string", default: migrationsDirectory },
      "dry-run": { type: "boolean", default: false },
      "backup-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals.length > 0) {
    out.stdout.write(`${ADOPT_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadDatabaseConfig(values.url === undefined ? env : { ...env, DATABASE_URL: values.url });
  const say = (line: string) => out.stdout.write(`${line}\n`);
  const log = { info: say, warn: (line: string) => out.stderr.write(`warning: ${line}\n`) };
  const options = {
    config,
    directory: values.dir,
    log,
    progress: say,
    ...(values["backup-dir"] === undefined ? {} : { backupDirectory: values["backup-dir"] }),
  };
  try {
    if (values["dry-run"]) {
      say(`adoption plan for ${describeDatabaseConfig(config)} (dry run: nothing is written)`);
      const plan = await planDatabaseAdoption(options);
      for (const line of formatPlan(plan)) say(line);
      return plan.blockers.length > 0 ? 3 : 0;
    }
    say(`adopting ${describeDatabaseConfig(config)}`);
    const { plan, applied, verification } = await adoptDatabase({
      ...options,
      progress: say,
    });
    for (const line of formatPlan(plan)) say(line);
    say(
      applied.length === 0 ? "nothing to do" : `adopted: ${applied.length} migration(s) applied and recorded`,
    );
    say(
      `compared with supabase/schema.sql: ${verification.differences.length} difference(s) in what is ours, ` +
        `${verification.unvalidated.length} constraint(s) not validated yet, ` +
        `${verification.foreign.length} object(s) not ours kept`,
    );
    for (const difference of verification.differences) say(`  differs  ${difference.message}`);
    for (const constraint of verification.unvalidated) say(`  not valid  ${constraint.message}`);
    return 0;
  } catch (error) {
    if (error instanceof AdoptionBlockedError) {
      out.stderr.write(`${error.message}\n`);
      return 3;
    }
    throw error;
  }
}
