/**
 * `pnpm db:migrate` and `pnpm db:types`.
 *
 *   tsx src/cli.ts migrate [--dir <path>] [--dry-run]   apply (or list) pending migrations to the database in DATABASE_URL / DATABASE_*
 *   tsx src/cli.ts types [--out <path>]     regenerate database.generated.ts from a migrated database (DATABASE_URL)
 *   tsx src/cli.ts transfer --from <url> --to <url> [...]   copy tables between databases, verified (see transfer-cli.ts)
 *   tsx src/cli.ts adopt [--url <url>] [--dry-run]   bring a hand-made database under the migrations (see adopt/)
 *   tsx src/cli.ts advisors --splinter <file>   run Supabase's advisor SQL you supply against DATABASE_URL
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ADOPT_USAGE, adoptCli } from "./adopt/adopt-cli.ts";
import { ConfigError } from "./config-error.ts";
import { describeDatabaseConfig } from "./describe-database-config.ts";
import { databaseTypesPath, generateDatabaseTypes } from "./generate-database-types.ts";
import { loadDatabaseConfig } from "./load-database-config.ts";
import { migrationsDirectory } from "./migrations/migrations-directory.ts";
import { planMigrations, runMigrations } from "./migrations/run-migrations.ts";
import { ADVISORS_USAGE, advisorsCli } from "./splinter-cli.ts";
import { TRANSFER_USAGE, transferCli } from "./transfer/transfer-cli.ts";

const USAGE = `usage:
  db migrate [--dir <path>] [--dry-run]
                              apply pending files of supabase/migrations to the database configured by
                              DATABASE_URL (or DATABASE_HOST, DATABASE_NAME, DATABASE_USER, ...);
                              --dry-run lists the pending files and their statements, writing nothing
  db types [--out <path>]     write the kysely Database types generated from DATABASE_URL, which must be
                              a database with every migration applied, to src/database.generated.ts
  db ${TRANSFER_USAGE.replace(/^usage: db /, "")}
  db ${ADOPT_USAGE.replace(/^usage: db /, "")}
  db ${ADVISORS_USAGE.replace(/^usage: db /, "")}`;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // `transfer` has options of its own.
  if (argv[0] === "transfer") {
    return transferCli(argv.slice(1), env, { stdout: process.stdout, stderr: process.stderr });
  }
  if (argv[0] === "advisors") {
    return advisorsCli(argv.slice(1), env, { stdout: process.stdout, stderr: process.stderr });
  }
  if (argv[0] === "adopt") {
    return adoptCli(argv.slice(1), env, { stdout: process.stdout, stderr: process.stderr });
  }
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: "string", default: migrationsDirectory },
      "dry-run": { type: "boolean", default: false },
      out: { type: "string", default: databaseTypesPath },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command] = positionals;
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case "migrate": {
      const config = loadDatabaseConfig(env);
      if (values["dry-run"]) {
        console.log(
          `dry run against ${describeDatabaseConfig(config)} from ${values.dir}: nothing is written`,
        );
        const { pending, alreadyApplied } = await planMigrations({
          config,
          directory: values.dir,
          log: console,
        });
        console.log(
          pending.length === 0
            ? `nothing to apply (${alreadyApplied.length} already applied)`
            : `${pending.length} to apply (${alreadyApplied.length} already applied):`,
        );
        for (const migration of pending) {
          console.log(`  ${migration.file} (${migration.statements.length} statements)`);
          for (const statement of migration.statements) {
            const text =
              statement.firstLine.length > 100 ? `${statement.firstLine.slice(0, 99)}…` : statement.firstLine;
            console.log(`    line ${statement.line}: ${text}`);
          }
        }
        return 0;
      }
      console.log(`migrating ${describeDatabaseConfig(config)} from ${values.dir}`);
      const { applied, alreadyApplied } = await runMigrations({
        config,
        directory: values.dir,
        log: console,
      });
      console.log(
        applied.length === 0
          ? `nothing to apply (${alreadyApplied.length} already applied)`
          : `applied ${applied.length}: ${applied.join(", ")} (${alreadyApplied.length} already applied)`,
      );
      return 0;
    }
    case "types": {
      const url = env.DATABASE_URL;
      if (url === undefined || url.trim() === "") {
        console.error(
          "DATABASE_URL is not set: point it at a database with every migration applied " +
            "(or run `devstack types` from packages/devstack, which migrates a throw-away database for you)",
        );
        return 2;
      }
      const source = await generateDatabaseTypes(url);
      await writeFile(values.out, source);
      console.log(`wrote ${values.out}`);
      return 0;
    }
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // ConfigError and the migration errors carry complete, password-free messages.
    console.error(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
