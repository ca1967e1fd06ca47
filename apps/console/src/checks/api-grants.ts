import { walkApiGrants } from "@balansity/db";
import { type Check, fail, type Queryable, report } from "../doctor/check.ts";
import { missingApiRoles } from "./api-roles.ts";

/**
 * Every function, table, view and sequence in the schemas PostgREST exposes, and every pgmq
 * function, against the one allow-list in @balansity/db (packages/db/src/api-allow-list.ts): what
 * anon, authenticated and service_role may do, no more and no less. The same walk the tests run.
 */
export const apiGrantsCheck: Check = {
  name: "api-grants",
  description:
    "anon, authenticated and service_role can use exactly what the API allow-list says in the exposed schemas and pgmq",
  async run(db: Queryable) {
    const roles = await missingApiRoles(db);
    if (roles.length > 0) return report(roles);
    const walk = await walkApiGrants(db);
    return report(
      walk.problems.map((problem) => fail(problem.message, problem.fix)),
      `${walk.functionsChecked} functions and ${walk.tablesChecked} tables checked for anon, authenticated and service_role`,
    );
  },
};
