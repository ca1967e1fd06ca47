import { type Check, type CheckResult, fail, type Queryable, statusOf } from "./check.ts";

/**
 * Runs the checks one after another (they are small catalog queries; order keeps the output stable).
 * A check that throws becomes a FAIL with the error's message, so one broken check never hides the
 * others.
 *
 * ### Examples
 * ```ts
 * import { createPool, loadDatabaseConfig } from "@balansity/db";
 * import { doctorChecks, runChecks } from "@balansity/console";
 *
 * const pool = createPool(loadDatabaseConfig(process.env));
 * const results = await runChecks(pool, doctorChecks);
 * results.filter((result) => result.status === "fail"); // what to fix
 * await pool.end();
 * ```
 */
export async function runChecks(
  db: Queryable,
  checks: readonly Check[],
  clock: () => number = performance.now.bind(performance),
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = clock();
    let findings: CheckResult["findings"];
    let note: string | undefined;
    try {
      const outcome = await check.run(db);
      findings = outcome.findings;
      note = outcome.note;
    } catch (error) {
      findings = [
        fail(
          `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
          "connect as the database owner (postgres on Supabase), which can read the catalogs this check queries",
        ),
      ];
    }
    const durationMs = Math.round(clock() - started);
    const base = { name: check.name, description: check.description, status: statusOf(findings), findings };
    results.push(note === undefined ? { ...base, durationMs } : { ...base, note, durationMs });
  }
  return results;
}
