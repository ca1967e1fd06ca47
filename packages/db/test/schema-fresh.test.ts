// supabase/schema.sql and schema.json are generated from a migrated database (pnpm db:schema); this
// fails when a migration changed the database and the files were not regenerated.
import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import {
  compareSchema,
  generateSchemaFiles,
  introspectSchema,
  loadExpectedSchema,
  schemaJsonPath,
  schemaSqlPath,
} from "../src/index.ts";

let database: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  database = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

it("the committed supabase/schema.sql and schema.json match the migrated database", async () => {
  const generated = await generateSchemaFiles(client);
  expect(
    await readFile(schemaSqlPath, "utf8"),
    "supabase/schema.sql is stale: run pnpm db:schema and commit it",
  ).toBe(generated.sql);
  expect(
    await readFile(schemaJsonPath, "utf8"),
    "supabase/schema.json is stale: run pnpm db:schema and commit it",
  ).toBe(generated.json);
});

it("finds nothing missing and nothing foreign in the migrated database", async () => {
  const comparison = compareSchema(loadExpectedSchema(), await introspectSchema(client));
  expect(comparison.differences).toEqual([]);
  expect(comparison.foreign).toEqual([]);
  expect(comparison.ok).toBe(true);
});

it("reads the same state whatever the caller's search_path, and restores it", async () => {
  const before = await introspectSchema(client);
  await client.query("set search_path = public, automation, extensions");
  const after = await introspectSchema(client);
  const { rows } = await client.query<{ search_path: string }>("show search_path");
  await client.query("reset search_path");
  expect(after).toEqual(before);
  expect(rows[0]?.search_path).toBe("public, automation, extensions");
});

it("reads the same state through a pool as through a client", async () => {
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    expect(await introspectSchema(pool)).toEqual(await introspectSchema(client));
  } finally {
    await pool.end();
  }
});
