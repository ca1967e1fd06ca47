// Supabase's database advisors (splinter) on the migrated database, through our re-implementation of
// its security lints (src/advisor-lints.ts names which): no ERROR, and every WARN left is listed with
// its reason in docs/deploy-supabase-cloud.md ("Database advisors"). Breakage is made in a
// transaction that is rolled back, to show each lint can fail.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// A path, not the package: @balansity/devstack depends on @balansity/db (see vitest.config.ts).
import { createTestDatabase, type TestDatabase } from "../../devstack/src/testing.ts";
import { type AdvisorFinding, runAdvisorLints } from "../src/advisor-lints.ts";
import { allowedFunctions } from "../src/api-allow-list.ts";

const GUIDE = resolve(import.meta.dirname, "../../../docs/deploy-supabase-cloud.md");

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

const key = (finding: AdvisorFinding) => `${finding.lint} ${finding.object}`;

/** The findings `breakage` adds, made as the owner in a transaction that is rolled back. */
async function lintsAfter(breakage: string): Promise<string[]> {
  const before = new Set((await runAdvisorLints(client)).map(key));
  await client.query("begin");
  try {
    await client.query(breakage);
    return (await runAdvisorLints(client)).map(key).filter((finding) => !before.has(finding));
  } finally {
    await client.query("rollback");
  }
}

/** The rows of the guide's "Database advisors" table: `| lint | object | reason |`. */
function documentedWarnings(): Map<string, string> {
  const guide = readFileSync(GUIDE, "utf8");
  const section = guide.split(/^#{2,3} /m).find((part) => part.startsWith("Database advisors")) ?? "";
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim().replaceAll("`", ""));
    // Data rows only: not the header ("lint") nor the separator.
    if (cells.length < 5 || cells[1] === "lint" || !/^[a-z_]+$/.test(cells[1] ?? "")) continue;
    rows.set(`${cells[1]} ${cells[2]}`, cells[3] ?? "");
  }
  return rows;
}

describe("database advisors on the migrated database", () => {
  it("finds no ERROR", async () => {
    const findings = await runAdvisorLints(client);
    expect(findings.filter((finding) => finding.level === "ERROR")).toEqual([]);
  });

  it("leaves only WARNs the deployment guide lists with a reason", async () => {
    const warnings = (await runAdvisorLints(client)).filter((finding) => finding.level === "WARN");
    const documented = documentedWarnings();
    expect(warnings.map(key).sort()).toEqual([...documented.keys()].sort());
    for (const reason of documented.values()) expect(reason.length).toBeGreaterThan(20);
  });

  it("gives authenticated no console function (has_function_privilege)", async () => {
    const { rows } = await client.query<{ fn: string; authenticated: boolean; anon: boolean }>(
      `select p.oid::regprocedure::text as fn,
              has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
              has_function_privilege('anon', p.oid, 'execute') as anon
         from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'console\\_%'`,
    );
    // Every console RPC the allow-list names is there (so the check below covers each of them).
    const bare = (fn: string) => fn.replaceAll(" ", "");
    const listed = Object.keys(allowedFunctions).filter((fn) => fn.startsWith("public.console_"));
    expect(rows.map((row) => bare(`public.${row.fn}`)).sort()).toEqual(listed.map(bare).sort());
    expect(rows.filter((row) => row.authenticated || row.anon)).toEqual([]);
  });
});

describe("each lint finds what it is for", () => {
  it("authenticated_security_definer_function_executable: a console function granted back to authenticated", async () => {
    expect(
      await lintsAfter("grant execute on function public.console_queue_overview() to authenticated"),
    ).toEqual(["authenticated_security_definer_function_executable public.console_queue_overview()"]);
  });

  it("anon_security_definer_function_executable and function_search_path_mutable: a careless new function", async () => {
    expect(
      (
        await lintsAfter(
          "create function public.careless() returns int language sql security definer as 'select 1'",
        )
      ).sort(),
    ).toEqual([
      "anon_security_definer_function_executable public.careless()",
      "authenticated_security_definer_function_executable public.careless()",
      "function_search_path_mutable public.careless()",
    ]);
  });

  it("pg_graphql_anon_table_exposed and pg_graphql_authenticated_table_exposed: a table the browser may read", async () => {
    // Default privileges (as on Supabase) grant new tables to both roles: each table keeps one grant.
    expect(
      (
        await lintsAfter(`
          create table public.notices (id int primary key, body text);
          alter table public.notices enable row level security;
          revoke all on public.notices from anon, authenticated;
          grant select on public.notices to anon;
          create table public.drafts (id int primary key, body text);
          alter table public.drafts enable row level security;
          revoke all on public.drafts from anon, authenticated;
          grant select (id) on public.drafts to authenticated`)
      ).sort(),
    ).toEqual([
      "pg_graphql_anon_table_exposed public.notices",
      "pg_graphql_authenticated_table_exposed public.drafts",
      "rls_enabled_no_policy public.drafts",
      "rls_enabled_no_policy public.notices",
    ]);
  });

  it("rls_disabled_in_public and policy_exists_rls_disabled: row level security turned off", async () => {
    expect((await lintsAfter("alter table public.appointments disable row level security")).sort()).toEqual([
      "policy_exists_rls_disabled public.appointments",
      "rls_disabled_in_public public.appointments",
    ]);
  });

  it("security_definer_view and auth_users_exposed: a view of auth.users for the browser", async () => {
    expect(
      (
        await lintsAfter(
          "create view public.emails as select id, email from auth.users; grant select on public.emails to authenticated",
        )
      ).sort(),
    ).toEqual([
      "auth_users_exposed public.emails",
      "pg_graphql_anon_table_exposed public.emails",
      "pg_graphql_authenticated_table_exposed public.emails",
      "security_definer_view public.emails",
    ]);
  });

  it("rls_references_user_metadata and rls_policy_always_true: careless policies", async () => {
    expect(
      (
        await lintsAfter(`
          create policy careless_update on public.payments for update to authenticated using (true);
          create policy by_metadata on public.reports for select to authenticated
            using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin')`)
      ).sort(),
    ).toEqual([
      "rls_policy_always_true public.payments (careless_update)",
      "rls_references_user_metadata public.reports (by_metadata)",
    ]);
  });
});
