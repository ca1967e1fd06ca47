import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { type ExpectedFunction, expectedFunctions } from "./expected-functions.ts";
import { applyMigrationFix, restoreFunctionFix } from "./migration-sources.ts";

/** Every function the triggers, schedulers, worker and browser call exists in schema public. */
export function createFunctionsCheck(expected: readonly ExpectedFunction[] = expectedFunctions): Check {
  return {
    name: "functions",
    description: "the trigger, cron, queue and RPC functions exist in schema public",
    async run(db: Queryable) {
      const { rows } = await db.query<{ name: string }>(
        `select distinct p.proname::text as name
         from pg_catalog.pg_proc p
         join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.proname = any($1::text[])`,
        [expected.map((fn) => fn.name)],
      );
      const present = new Set(rows.map((row) => row.name));
      const findings: Finding[] = expected
        .filter((fn) => !present.has(fn.name))
        .map((fn) =>
          fail(
            `function public.${fn.name} does not exist`,
            applyMigrationFix(fn.migration, restoreFunctionFix(`public.${fn.name}(…)`)),
          ),
        );
      return report(findings, `${expected.length - findings.length} of ${expected.length} present`);
    },
  };
}

export const functionsCheck: Check = createFunctionsCheck();
