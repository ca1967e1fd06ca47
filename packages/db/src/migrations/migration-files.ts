import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MigrationFileError } from "./migration-errors.ts";
import type { MigrationLog } from "./migration-log.ts";

/** One `NNN_name.sql` file. */
export interface MigrationFile {
  /** The numeric prefix as written (`001`): the `version` the Supabase CLI records. */
  readonly version: string;
  /** The rest of the name without `.sql` (`base_schema`): the CLI's `name` column. */
  readonly name: string;
  /** `001_base_schema.sql` */
  readonly fileName: string;
  /** The file's text (a leading byte-order mark removed). */
  readonly content: string;
}

const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/;

/**
 * Reads the `NNN_name.sql` files of a directory, sorted by number. Other `.sql` files are skipped
 * with a warning (as the Supabase CLI does); two files with the same number are an error.
 */
export async function readMigrationFiles(directory: string, log: MigrationLog): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MigrationFileError(directory, `migrations directory ${directory} cannot be read (${reason})`);
  }
  const files: (MigrationFile & { readonly number: bigint })[] = [];
  for (const fileName of names.sort()) {
    if (!fileName.endsWith(".sql")) continue;
    const match = MIGRATION_NAME.exec(fileName);
    if (match === null) {
      log.warn(`skipping ${fileName}: a migration file name is NNN_name.sql, e.g. 034_add_reports.sql`);
      continue;
    }
    const content = (await readFile(join(directory, fileName), "utf8")).replace(/^\uFEFF/, "");
    const [, version = "", name = ""] = match;
    files.push({ version, name, fileName, content, number: BigInt(version) });
  }
  files.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  for (let i = 1; i < files.length; i += 1) {
    const previous = files[i - 1];
    const current = files[i];
    if (previous && current && previous.number === current.number) {
      throw new MigrationFileError(
        current.fileName,
        `migrations ${previous.fileName} and ${current.fileName} have the same number: renumber the newer one`,
      );
    }
  }
  return files.map(({ version, name, fileName, content }) => ({ version, name, fileName, content }));
}
