import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { missingApiRoles } from "./api-roles.ts";
import { type ExpectedFunction, expectedFunctions, type FunctionAccess } from "./expected-functions.ts";

interface PrivilegeRow {
  name: string;
  signature: string;
  anon: boolean;
  authenticated: boolean;
  service_role: boolean;
}

/**
 * Execute privileges as docs/queue-contract.md says, checked with has_function_privilege (so grants
 * through PUBLIC count): service functions for service_role only; request_assessment_report for
 * authenticated; trigger functions for none of the browser roles; anon executes none of them.
 */
export function createFunctionGrantsCheck(expected: readonly ExpectedFunction[] = expectedFunctions): Check {
  return {
    name: "function-grants",
    description:
      "service_role executes the service functions, anon and authenticated cannot; authenticated executes request_assessment_report",
    async run(db: Queryable) {
      const roles = await missingApiRoles(db);
      if (roles.length > 0) return report(roles);

      const { rows } = await db.query<PrivilegeRow>(
        `select p.proname::text as name,
                pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) as signature,
                pg_catalog.has_function_privilege('anon', p.oid, 'execute') as anon,
                pg_catalog.has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
                pg_catalog.has_function_privilege('service_role', p.oid, 'execute') as service_role
         from pg_catalog.pg_proc p
         join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.proname = any($1::text[])
         order by p.proname, signature`,
        [expected.map((fn) => fn.name)],
      );
      const access = new Map(expected.map((fn) => [fn.name, fn.access]));
      const findings = rows.flatMap((row) => grantFindings(row, access.get(row.name) ?? "none"));
      // A missing function is the functions check's to report.
      return report(findings, `${rows.length} functions checked for anon, authenticated and service_role`);
    },
  };
}

export const functionGrantsCheck: Check = createFunctionGrantsCheck();

function grantFindings(row: PrivilegeRow, access: FunctionAccess): Finding[] {
  const findings: Finding[] = [];
  const revoke = (roles: string) => `revoke execute on function ${row.signature} from ${roles}`;
  if (row.anon) {
    findings.push(
      fail(
        `anon can execute ${row.signature}: anyone holding the public anon key can call it`,
        access === "authenticated"
          ? `${revoke("public, anon")}; grant execute on function ${row.signature} to authenticated`
          : revoke("public, anon, authenticated"),
      ),
    );
  }
  if (access !== "authenticated" && row.authenticated) {
    findings.push(
      fail(
        `authenticated can execute ${row.signature}: any signed-in user can call it`,
        revoke("public, anon, authenticated"),
      ),
    );
  }
  if (access === "authenticated" && !row.authenticated) {
    findings.push(
      fail(
        `authenticated cannot execute ${row.signature}: signed-in users get "permission denied"`,
        `grant execute on function ${row.signature} to authenticated`,
      ),
    );
  }
  if (access === "service_role" && !row.service_role) {
    findings.push(
      fail(
        `service_role cannot execute ${row.signature}: servers and the worker get "permission denied"`,
        `grant execute on function ${row.signature} to service_role`,
      ),
    );
  }
  return findings;
}
