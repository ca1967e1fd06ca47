import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { missingApiRoles } from "./api-roles.ts";
import { type ExpectedFunction, expectedFunctions, type FunctionAccess } from "./expected-functions.ts";
import { migrationSources } from "./migration-sources.ts";

interface PrivilegeRow {
  name: string;
  signature: string;
  anon: boolean;
  authenticated: boolean;
  /** Null when the operator role does not exist (migration 046 not applied). */
  operator: boolean | null;
  service_role: boolean;
  security_definer: boolean;
}

/**
 * Execute privileges as docs/queue-contract.md says, checked with has_function_privilege (so grants
 * through PUBLIC count): service functions for service_role only; request_assessment_report for
 * authenticated; the console functions for operator and service_role only; trigger functions for none
 * of the browser roles; anon executes none of them. A security definer function left executable by
 * authenticated on purpose is named with its reason (Supabase's advisor warns about each).
 */
export function createFunctionGrantsCheck(expected: readonly ExpectedFunction[] = expectedFunctions): Check {
  return {
    name: "function-grants",
    description:
      "service_role executes the service functions, anon and authenticated cannot; operator executes the console functions; authenticated executes request_assessment_report",
    async run(db: Queryable) {
      const roles = await missingApiRoles(db);
      if (roles.length > 0) return report(roles);

      const { rows } = await db.query<PrivilegeRow>(
        `select p.proname::text as name,
                pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) as signature,
                pg_catalog.has_function_privilege('anon', p.oid, 'execute') as anon,
                pg_catalog.has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
                case when pg_catalog.to_regrole('operator') is not null
                  then pg_catalog.has_function_privilege('operator', p.oid, 'execute') end as operator,
                pg_catalog.has_function_privilege('service_role', p.oid, 'execute') as service_role,
                p.prosecdef as security_definer
         from pg_catalog.pg_proc p
         join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.proname = any($1::text[])
         order by p.proname, signature`,
        [expected.map((fn) => fn.name)],
      );
      const byName = new Map(expected.map((fn) => [fn.name, fn]));
      const findings = rows.flatMap((row) => grantFindings(row, byName.get(row.name)?.access ?? "none"));
      // Said every time, so an operator reading the advisor's WARN finds why it stays.
      const onPurpose = rows
        .filter((row) => row.security_definer && row.authenticated && byName.get(row.name)?.definerBecause)
        .map(
          (row) => `${row.signature} is security definer on purpose: ${byName.get(row.name)?.definerBecause}`,
        );
      // A missing function is the functions check's to report.
      return report(
        findings,
        [
          `${rows.length} functions checked for anon, authenticated, operator and service_role`,
          ...onPurpose,
        ].join("; "),
      );
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
  if (access === "operator" && row.operator === null) {
    findings.push(
      fail(
        `role operator does not exist: operators cannot call ${row.signature}`,
        `apply supabase/migrations/${migrationSources.operatorRole} (pnpm db:migrate)`,
      ),
    );
  } else if (access === "operator" && !row.operator) {
    findings.push(
      fail(
        `operator cannot execute ${row.signature}: the console gets "permission denied"`,
        `grant execute on function ${row.signature} to operator`,
      ),
    );
  }
  if ((access === "service_role" || access === "operator") && !row.service_role) {
    findings.push(
      fail(
        `service_role cannot execute ${row.signature}: servers and the worker get "permission denied"`,
        `grant execute on function ${row.signature} to service_role`,
      ),
    );
  }
  return findings;
}
