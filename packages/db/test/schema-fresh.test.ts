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
  renderSchemaSql,
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

it("shows a re-declared function as a change of one line in that function's block", async () => {
  const before = renderSchemaSql(await introspectSchema(client)).split("\n");
  await client.query("begin");
  let after: string[];
  try {
    // What a migration re-declaring a function with one line changed does to the database.
    const { rows } = await client.query<{ definition: string }>(
      "select pg_catalog.pg_get_functiondef('public.is_email_address(text)'::pg_catalog.regprocedure) as definition",
    );
    const definition = rows[0]?.definition ?? "";
    expect(definition).toContain("address");
    await client.query(definition.replace(/\$function\$\n/, "$function$\n-- changed\n"));
    after = renderSchemaSql(await introspectSchema(client)).split("\n");
  } finally {
    await client.query("rollback");
  }
  const blockStart = before.indexOf("-- function public.is_email_address(text)");
  const blockEnd = before.indexOf("", blockStart);
  expect(after.length).toBe(before.length + 1);
  const changed = after.findIndex((line, index) => line !== before[index]);
  expect(after[changed]).toBe("-- changed");
  expect(changed).toBeGreaterThan(blockStart);
  expect(changed).toBeLessThan(blockEnd);
  expect([...after.slice(0, changed), ...after.slice(changed + 1)]).toEqual(before);
});
