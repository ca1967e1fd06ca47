// Duplicates after crashes: the real worker (TypeScript through tsx, as `start:ts`) sends N emails to the
// devstack's SMTP sink (a separate process that records Message-IDs) and is SIGKILLed K times on the way,
// restarted each time. Prints, per kill, the emails in flight (delivery log: claimed, no result; and how
// many of them the server already had) and the duplicates they became; then lost, duplicates, resends
// counted in the delivery log, and whether every duplicate carried its first copy's Message-ID.
//
//   cd bench && node --import tsx worker-crash-duplicates.ts [--emails 3000] [--kills 5] [--runs 1]
//        [--worker-main <path to another checkout's apps/worker/src/main.ts>] [--durability fast|durable]
//   pnpm --filter @balansity/bench worker-crash-duplicates
//
// --worker-main runs another checkout's worker (the "before" figure) against a database migrated with
// this checkout's migrations (which only add to what that worker uses). The scenario is the one
// apps/worker/test/worker-killed-repeatedly.test.ts asserts (test/support/crash-scenario.ts).
// Environment: DEVSTACK_POSTGRES (auto | system | embedded), PG_BIN, as for the devstack.
import { parseArgs } from "node:util";
import pg from "pg";
import { describeCrashRun, runCrashScenario } from "../apps/worker/test/support/crash-scenario.ts";
import { describeMachine, machineLine } from "./support/machine.ts";
import { loadPerCpu } from "./support/quiet-machine.ts";
import { startThrowawayPostgres } from "./support/throwaway-postgres.ts";

const { values } = parseArgs({
  options: {
    emails: { type: "string", default: "3000" },
    kills: { type: "string", default: "5" },
    runs: { type: "string", default: "1" },
    "worker-main": { type: "string" },
    durability: { type: "string", default: "fast" },
  },
});
const durability = values.durability === "durable" ? "durable" : "fast";
const postgres = await startThrowawayPostgres(durability);
try {
  console.log(
    `worker-crash-duplicates: ${machineLine(describeMachine())}; ${postgres.description}; worker ${
      values["worker-main"] ?? "this checkout"
    }`,
  );
  for (let run = 1; run <= Number(values.runs); run += 1) {
    const { url } = await postgres.createAppDatabase(`bench_crash_${run}`);
    const pool = new pg.Pool({ connectionString: url });
    try {
      const load = loadPerCpu();
      const result = await runCrashScenario({
        databaseUrl: url,
        pool,
        count: Number(values.emails),
        kills: Number(values.kills),
        ...(values["worker-main"] ? { workerMain: values["worker-main"] } : {}),
      });
      console.log(`run ${run} (load ${load.toFixed(2)} per CPU before it)\n${describeCrashRun(result)}`);
      console.log(
        `  in flight at the kills (log): ${result.kills.map((kill) => kill.inFlight.length).join(", ")}; ` +
          `duplicates per kill: ${result.kills.map((kill) => kill.duplicates).join(", ")}; ` +
          `unexplained: ${result.unexplained.length}; different Message-IDs: ${result.differentMessageIds.length}`,
      );
    } finally {
      await pool.end();
    }
  }
} finally {
  await postgres.stop();
}
