import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDatabaseTypes } from "@balansity/db";
import { applyMigrations, installPlatform } from "./prepare-database.ts";
import { parsePostgresChoice, startPostgres } from "./start-postgres.ts";

export const databaseTypesFile = fileURLToPath(
  new URL("../../db/src/database.generated.ts", import.meta.url),
);

/** Migrates a throw-away cluster and writes the kysely `Database` type generated from it. */
export async function writeDatabaseTypes(log: (line: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "balansity-types-"));
  chmodSync(root, 0o755);
  const { cluster } = await startPostgres({
    dataDir: join(root, "data"),
    logFile: join(root, "postgres.log"),
    port: 0,
    durability: "fast",
    choice: parsePostgresChoice(process.env.DEVSTACK_POSTGRES),
    pgBin: process.env.PG_BIN,
  });
  try {
    await installPlatform(cluster.adminUrl);
    await applyMigrations(cluster.adminUrl);
    writeFileSync(databaseTypesFile, await generateDatabaseTypes(cluster.adminUrl));
    log(`wrote ${databaseTypesFile}`);
  } finally {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
