import { type AllowedFunction, allowedFunctions } from "@balansity/db";

/**
 * Who may execute a function through the API roles:
 * - `service_role`: service_role only (servers, the worker, the schedulers); never anon or authenticated.
 * - `authenticated`: signed-in users (the function checks auth.uid() itself); never anon.
 * - `operator`: the operator role (an operator's JWT, migration 046) and service_role; never anon or
 *   authenticated (the function checks is_operator() itself as well).
 * - `none`: trigger functions, which need no execute grant to fire; never anon or authenticated.
 */
export type FunctionAccess = "service_role" | "authenticated" | "operator" | "none";

export interface ExpectedFunction {
  /** Name in schema public (every overload is checked). */
  readonly name: string;
  /** The migration that creates it (its current body is in supabase/schema.sql). */
  readonly migration: string;
  readonly access: FunctionAccess;
  /** Why a security definer function stays executable by authenticated; the doctor prints it. */
  readonly definerBecause?: string;
}

function accessOf(entry: AllowedFunction): FunctionAccess {
  if (entry.execute.includes("authenticated")) return "authenticated";
  if (entry.execute.includes("operator")) return "operator";
  if (entry.execute.includes("service_role")) return "service_role";
  return "none";
}

/**
 * The functions of schema public, derived from the one list of them, the API allow-list of
 * @balansity/db (packages/db/src/api-allow-list.ts): name, creating migration and who may call it.
 */
export const expectedFunctions: readonly ExpectedFunction[] = [
  ...new Map(
    Object.entries(allowedFunctions)
      .filter(([signature]) => signature.startsWith("public."))
      .map(([signature, entry]): [string, ExpectedFunction] => {
        const name = signature.slice("public.".length, signature.indexOf("("));
        const expected: ExpectedFunction = { name, migration: entry.migration, access: accessOf(entry) };
        return [
          name,
          entry.definerBecause ? { ...expected, definerBecause: entry.definerBecause } : expected,
        ];
      }),
  ).values(),
];
