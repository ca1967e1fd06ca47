import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { migrationsDirectory, runMigrations } from "../src/index.ts";

async function migrationFiles(): Promise<string[]> {
  return (await readdir(migrationsDirectory)).filter((name) => /^\d+_.+\.sql$/.test(name));
}

describe("the repository's supabase/migrations", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("platform");
  });
  afterAll(() => database.drop());

  it("migrationsDirectory is the repository's supabase/migrations, wherever the process runs", () => {
    const expected = fileURLToPath(new URL("../../../supabase/migrations", import.meta.url));
    expect(migrationsDirectory).toBe(expected);
    expect(existsSync(join(migrationsDirectory, ".."))).toBe(true);
  });

  it("apply in full on a database with the Supabase platform objects, then apply nothing on a second run", async () => {
    const files = await migrationFiles();
    expect(files.length).toBeGreaterThan(0);
    const first = await runMigrations({ connectionString: database.url, directory: migrationsDirectory });
    expect(first.applied).toEqual([...files].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)));
    const second = await runMigrations({ connectionString: database.url, directory: migrationsDirectory });
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied });
  });

  it("are recorded in the migrated test template, so runs against it apply nothing", async () => {
    const migrated = await createTestDatabase("migrated");
    try {
      const result = await runMigrations({ connectionString: migrated.url, directory: migrationsDirectory });
      expect(result.applied).toEqual([]);
      const client = new pg.Client({ connectionString: migrated.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          "select count(*)::int as n from supabase_migrations.schema_migrations",
        );
        expect(rows[0]).toEqual({ n: (await migrationFiles()).length });
      } finally {
        await client.end();
      }
    } finally {
      await migrated.drop();
    }
  });
});
