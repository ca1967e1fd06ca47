import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateDatabaseTypes } from "@balansity/db";
import { applyMigrations, installPlatform } from "./prepare-database.ts";
import { startThrowawayPostgres } from "./start-throwaway-postgres.ts";

export const databaseTypesFile = fileURLToPath(
  new URL("../../db/src/database.generated.ts", import.meta.url),
);

/** Migrates a throw-away cluster and writes the kysely `Database` type generated from it. */
export async function writeDatabaseTypes(log: (line: string) => void): Promise<void> {
  const postgres = await startThrowawayPostgres({ prefix: "balansity-types-" });
  const { cluster } = postgres;
  try {
    await installPlatform(cluster.adminUrl);
    await applyMigrations(cluster.adminUrl);
    writeFileSync(databaseTypesFile, await generateDatabaseTypes(cluster.adminUrl));
    log(`wrote ${databaseTypesFile}`);
  } finally {
    await postgres.stop();
  }
}
