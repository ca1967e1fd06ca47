import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { databaseTypeSchemas, databaseTypesPath, generateDatabaseTypes } from "../src/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("migrated");
});
afterAll(() => database.drop());

it("the committed database.generated.ts matches the types generated from the migrated schema", async () => {
  const generated = await generateDatabaseTypes(database.url);
  const committed = await readFile(databaseTypesPath, "utf8");
  expect(
    committed,
    "packages/db/src/database.generated.ts is stale: run pnpm db:types and commit the result",
  ).toBe(generated);
});

it("covers every schema the migrations create", async () => {
  const schemas = async (url: string): Promise<string[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ nspname: string }>(
        "select nspname from pg_namespace order by nspname",
      );
      return rows.map((row) => row.nspname);
    } finally {
      await client.end();
    }
  };
  const platform = await createTestDatabase("platform");
  try {
    const before = new Set(await schemas(platform.url));
    const created = (await schemas(database.url)).filter(
      (schema) => !before.has(schema) && schema !== "supabase_migrations",
    );
    expect(
      [...databaseTypeSchemas].filter((schema) => schema !== "public").sort(),
      "a migration creates a schema the Database type leaves out: add it to databaseTypeSchemas, then run pnpm db:types",
    ).toEqual(created.sort());
  } finally {
    await platform.drop();
  }
});
