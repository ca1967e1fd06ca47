import { walkApiGrants } from "@balansity/db";
import { type Check, fail, info, type Queryable, report } from "../doctor/check.ts";
import { missingApiRoles } from "./api-roles.ts";
import { expectedSchema, isOurs } from "./expected-schema.ts";

/**
 * Every function, table, view and sequence in the schemas PostgREST exposes, and every pgmq
 * function, against the one allow-list in @balansity/db (packages/db/src/api-allow-list.ts): what
 * anon, authenticated and service_role may do, no more and no less. The same walk the tests run,
 * except that an unlisted object that is not ours (supabase/schema.json: not a table we create, not
 * a function name we declare) is listed as information: the app's own tables and functions carry
 * Supabase's default grants, which are not ours to judge. An unlisted overload of ours still fails.
 */
export const apiGrantsCheck: Check = {
  name: "api-grants",
  description:
    "anon, authenticated and service_role can use exactly what the API allow-list says in the exposed schemas and pgmq",
  async run(db: Queryable) {
    const roles = await missingApiRoles(db);
    if (roles.length > 0) return report(roles);
    const walk = await walkApiGrants(db, undefined, { isOurs: isOurs(expectedSchema()) });
    const findings = walk.problems.map((problem) => fail(problem.message, problem.fix));
    if (walk.foreign.length > 0) {
      findings.push(
        info(
          `not ours, so their grants are their owners' to decide: ${walk.foreign.length} objects in the exposed schemas: ${walk.foreign.join(", ")}`,
        ),
      );
    }
    return report(
      findings,
      `${walk.functionsChecked} functions and ${walk.tablesChecked} tables checked for anon, authenticated and service_role`,
    );
  },
};
