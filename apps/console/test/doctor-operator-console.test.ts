// The doctor knows the operator console's functions (041) and who may call them (the operator role,
// 046): missing ones and wrong grants are FAILs that name the migration and the fix.
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionGrantsCheck } from "../src/checks/function-grants.ts";
import { functionsCheck } from "../src/checks/functions.ts";
import { checkAfter } from "./support/run-in-transaction.ts";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("doctor and the operator console", () => {
  it("passes the console functions of a migrated database", async () => {
    const functions = await checkAfter(client, "select 1", functionsCheck);
    expect(functions.status).toBe("pass");
    const grants = await checkAfter(client, "select 1", functionGrantsCheck);
    expect(grants.findings.filter((finding) => /console_|is_operator/.test(finding.problem))).toEqual([]);
  });

  it("fails when a console function is missing, naming 041", async () => {
    const result = await checkAfter(
      client,
      "drop function public.console_retry_dead_letters(text, bigint[], text)",
      functionsCheck,
    );
    expect(result.status).toBe("fail");
    expect(result.findings.map((finding) => finding.problem).join("\n")).toContain(
      "console_retry_dead_letters",
    );
    expect(result.findings.map((finding) => finding.fix).join("\n")).toContain("041_operator_console.sql");
  });

  it("fails when anon or any signed-in user may call a console function, or operators may not", async () => {
    const anon = await checkAfter(
      client,
      "grant execute on function public.console_discard_dead_letters(text, bigint[], text) to anon",
      functionGrantsCheck,
    );
    expect(anon.findings.map((finding) => finding.problem)).toContainEqual(
      expect.stringMatching(/^anon can execute public\.console_discard_dead_letters/),
    );
    const authenticated = await checkAfter(
      client,
      "grant execute on function public.console_queue_overview() to authenticated",
      functionGrantsCheck,
    );
    expect(authenticated.findings.map((finding) => finding.problem)).toContainEqual(
      expect.stringMatching(/^authenticated can execute public\.console_queue_overview\(\)/),
    );
    const operator = await checkAfter(
      client,
      "revoke execute on function public.console_queue_overview() from operator",
      functionGrantsCheck,
    );
    expect(operator.findings.map((finding) => finding.problem)).toContainEqual(
      expect.stringMatching(/^operator cannot execute public\.console_queue_overview\(\)/),
    );
  });

  it("says why request_assessment_report stays security definer", async () => {
    const grants = await checkAfter(client, "select 1", functionGrantsCheck);
    expect(grants.note).toMatch(
      /public\.request_assessment_report\(uuid\) is security definer on purpose: it reads the report queue/,
    );
  });
});
