import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { databaseTypesPath, generateDatabaseTypes } from "../src/index.ts";

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
