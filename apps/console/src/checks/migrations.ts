import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isSupersededText, migrationsDirectory } from "@balansity/db";
import { type Check, type Finding, fail, type Queryable, report, warn } from "../doctor/check.ts";

// The file names the migration runner (and the Supabase CLI) accept: NNN_name.sql.
const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/;

interface MigrationFile {
  readonly version: string;
  readonly fileName: string;
  readonly content: string;
}

interface HistoryRow {
  version: string;
  name: string | null;
  statements: string[] | null;
}

/**
 * Every file of supabase/migrations is recorded in supabase_migrations.schema_migrations (where
 * `pnpm db:migrate` and the Supabase CLI record what they applied). Warns about a recorded file
 * whose text changed since, and about records with no file (a database ahead of this checkout).
 */
export function createMigrationsCheck(directory: string = migrationsDirectory): Check {
  return {
    name: "migrations",
    description: "every file in supabase/migrations is recorded as applied",
    async run(db: Queryable) {
      const files = await readMigrationFiles(directory);
      const { rows: exists } = await db.query<{ present: boolean }>(
        "select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as present",
      );
      if (exists[0]?.present !== true) {
        return report([
          fail(
            "no migration has been applied here (supabase_migrations.schema_migrations does not exist)",
            "apply supabase/migrations (pnpm db:migrate)",
          ),
        ]);
      }
      const { rows } = await db.query<HistoryRow>(
        "select version, name, statements from supabase_migrations.schema_migrations order by version",
      );
      // Versions compare as numbers: the Supabase CLI and our runner both record the file's prefix,
      // but a hand-made record may have dropped its leading zeros.
      const history = new Map(rows.map((row) => [versionKey(row.version), row]));
      const fileVersions = new Set(files.map((file) => versionKey(file.version)));

      const findings: Finding[] = [];
      const missing = files.filter((file) => !history.has(versionKey(file.version)));
      if (missing.length === 1 && missing[0] !== undefined) {
        findings.push(
          fail(
            `${missing[0].fileName} is not applied`,
            `apply supabase/migrations/${missing[0].fileName} (pnpm db:migrate)`,
          ),
        );
      } else if (missing.length > 1) {
        findings.push(
          fail(
            `${missing.length} migrations are not applied: ${missing.map((file) => file.fileName).join(", ")}`,
            "apply them in order (pnpm db:migrate)",
          ),
        );
      }

      for (const file of files) {
        const applied = history.get(versionKey(file.version));
        if (applied === undefined) continue;
        const statements = applied.statements ?? [];
        // One statement = recorded by our runner (the whole file), comparable; the Supabase CLI
        // records a file split into statements, which cannot be compared exactly.
        // A text a later fix superseded (isSupersededText) is the file as it was applied there.
        const recorded = statements[0] ?? "";
        if (
          statements.length === 1 &&
          recorded.trim() !== file.content.trim() &&
          !isSupersededText(file.version, recorded)
        ) {
          findings.push(
            warn(
              `${file.fileName} changed after it was applied: the database has the old text`,
              "migrations are immutable: restore the file as it was applied and make the change in a new migration",
            ),
          );
        }
      }

      const unknown = rows.filter((row) => !fileVersions.has(versionKey(row.version)));
      for (const row of unknown) {
        findings.push(
          warn(
            `migration ${row.version}${row.name === null ? "" : `_${row.name}`} is recorded but has no file in supabase/migrations: this database is ahead of this checkout`,
            "update the checkout (git pull) before migrating or checking again",
          ),
        );
      }

      const newest = files.at(-1);
      const note =
        newest === undefined
          ? "no migration files"
          : `${files.length - missing.length} of ${files.length} applied (newest file ${newest.fileName})`;
      return report(findings, note);
    },
  };
}

/** The check against the repository's supabase/migrations. */
export const migrationsCheck: Check = createMigrationsCheck();

async function readMigrationFiles(directory: string): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => MIGRATION_NAME.test(name));
  const files = await Promise.all(
    names.map(async (fileName) => ({
      version: MIGRATION_NAME.exec(fileName)?.[1] ?? "",
      fileName,
      content: (await readFile(join(directory, fileName), "utf8")).replace(/^\uFEFF/, ""),
    })),
  );
  return files.sort((a, b) => {
    const [x, y] = [BigInt(a.version), BigInt(b.version)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** `001` and `1` are the same migration; a version that is not a number stays as written. */
function versionKey(version: string): string {
  return /^\d+$/.test(version) ? BigInt(version).toString() : version;
}
