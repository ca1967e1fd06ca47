// `db:adopt` refuses a database whose tables lack what the automation needs (a column it reads and
// cannot add, a column of another type), naming every `table.column`, and changes nothing.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
// Paths, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { rowSnapshot, schemaSnapshot } from "../../devstack/src/database-snapshot.ts";
import { buildSeedState } from "../../devstack/src/seed-state.ts";
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { runCli } from "./support/db-cli-process.ts";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("platform");
  await buildSeedState(db.url, { pgCron: false });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // The live app without a column the automation needs, and one of another type.
  await client.query("alter table public.appointments drop column starts_at");
  await client.query("alter table public.payments alter column amount type text using amount::text");
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

it("exits non-zero naming each table.column, expected and found, and changes nothing", async () => {
  const schemaBefore = await schemaSnapshot(client);
  const rowsBefore = await rowSnapshot(client);

  let blocked = "";
  for (const args of [["adopt", "--dry-run"], ["adopt"]]) {
    const result = await runCli(args, { DATABASE_URL: db.url });
    expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(3);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain(
      "appointments.starts_at: expected timestamp with time zone not null, found no such column",
    );
    expect(output).toContain("payments.amount: expected numeric(12,2), found text");
    blocked = result.stderr;
  }
  expect(blocked).toContain("nothing was changed");

  expect(await schemaSnapshot(client)).toEqual(schemaBefore);
  expect(await rowSnapshot(client)).toEqual(rowsBefore);
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from supabase_migrations.schema_migrations",
  );
  expect(rows[0]?.n).toBe(0);
}, 180_000);
