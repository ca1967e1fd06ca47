// The doctor's api-grants check: the walk of @balansity/db (packages/db/test/api-grants-walk.test.ts
// covers it object by object) reported as doctor findings whose printed fix fixes. Each test breaks
// one grant in a transaction and rolls back.
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiGrantsCheck } from "../src/checks/api-grants.ts";
import type { CheckResult } from "../src/doctor/check.ts";
import { checkAfter, fixSql, runOne } from "./support/run-in-transaction.ts";

let db: TestDatabase;
let client: pg.Client;
let baseline: readonly string[];

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  baseline = (await runOne(client, apiGrantsCheck)).findings.map((finding) => finding.problem);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Findings beyond what the migrated database already shows. */
const added = (result: CheckResult) =>
  result.findings.filter((finding) => !baseline.includes(finding.problem));

describe("doctor api-grants", () => {
  it("fails when anon may execute a pgmq function, and its fix revokes it", async () => {
    const result = await checkAfter(
      client,
      "grant execute on function pgmq.send(text, jsonb, integer) to public",
      apiGrantsCheck,
      async (broken) => {
        for (const finding of added(broken))
          if (finding.severity === "fail") await client.query(fixSql(finding.fix));
        expect(added(await runOne(client, apiGrantsCheck))).toEqual([]);
      },
    );
    expect(result.status).toBe("fail");
    expect(added(result).map((finding) => finding.problem)).toEqual([
      "anon can execute pgmq.send(text, jsonb, integer), which the API allow-list does not allow",
      "authenticated can execute pgmq.send(text, jsonb, integer), which the API allow-list does not allow",
      "operator can execute pgmq.send(text, jsonb, integer), which the API allow-list does not allow",
    ]);
  });

  it("fails for an overload of one of our functions that nobody listed", async () => {
    const result = await checkAfter(
      client,
      "create function public.pgmq_send(queue_name text, message jsonb) returns bigint language sql as 'select 1::bigint'",
      apiGrantsCheck,
    );
    expect(result.status).toBe("fail");
    expect(added(result).map((finding) => finding.problem)).toEqual([
      "function public.pgmq_send(text, jsonb) is in an exposed schema but not in the API allow-list",
    ]);
  });

  it("passes, listing them as information, with the app's own function and table granted to every API role", async () => {
    const result = await checkAfter(
      client,
      `create function public.debug_dump() returns integer language sql as 'select 1';
       create table public.courses (id bigserial primary key, title text);
       grant all on table public.courses to anon, authenticated, service_role;
       grant all on sequence public.courses_id_seq to anon, authenticated, service_role`,
      apiGrantsCheck,
    );
    expect(result.status).toBe("pass");
    expect(added(result)).toEqual([
      {
        severity: "info",
        problem:
          "not ours, so their grants are their owners' to decide: 3 objects in the exposed schemas: public.debug_dump(), public.courses, public.courses_id_seq",
      },
    ]);
  });
});
