import { writeFileSync } from "node:fs";
import { generateSchemaFiles, schemaJsonPath, schemaSqlPath } from "@balansity/db";
import { applyMigrations, installPlatform } from "./prepare-database.ts";
import { startThrowawayPostgres } from "./start-throwaway-postgres.ts";
import { withClient } from "./with-client.ts";

/** Migrates a throw-away cluster and writes supabase/schema.sql and supabase/schema.json from it. */
export async function writeSchemaFiles(log: (line: string) => void): Promise<void> {
  const postgres = await startThrowawayPostgres({ prefix: "balansity-schema-" });
  const { cluster } = postgres;
  try {
    await installPlatform(cluster.adminUrl);
    await applyMigrations(cluster.adminUrl);
    const files = await withClient(cluster.adminUrl, generateSchemaFiles);
    writeFileSync(schemaSqlPath, files.sql);
    writeFileSync(schemaJsonPath, files.json);
    log(`wrote ${schemaSqlPath} and ${schemaJsonPath}`);
  } finally {
    await postgres.stop();
  }
}
