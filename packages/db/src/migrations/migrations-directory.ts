import { fileURLToPath } from "node:url";

/**
 * Absolute path of the repository's `supabase/migrations`, found from this package's location
 * (not the working directory), so scripts and tests work from anywhere.
 *
 * ### Examples
 * ```ts
 * import { migrationsDirectory, runMigrations } from "@balansity/db";
 *
 * await runMigrations({ connectionString: "postgresql://postgres@localhost:5432/postgres", directory: migrationsDirectory });
 * ```
 */
export const migrationsDirectory: string = fileURLToPath(
  new URL("../../../../supabase/migrations", import.meta.url),
);
