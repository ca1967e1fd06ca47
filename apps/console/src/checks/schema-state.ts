import {
  compareSchema,
  exposedSchemas,
  type ForeignObject,
  introspectSchema,
  type SchemaDifference,
  type SchemaState,
} from "@balansity/db";
import { type Check, type Finding, fail, info, type Queryable, report, warn } from "../doctor/check.ts";
import { catalogQueues } from "./catalog-queues.ts";
import { expectedSchema } from "./expected-schema.ts";
import { webhookTriggers } from "./webhook-triggers.ts";

// Left to the checks that say more about them: a missing function (functions), a missing queue
// (queues), a job that is not defined or that pg_cron does not run (cron-jobs), the webhook and queue wake-up triggers
// (webhook-triggers, queue-notify-triggers), and grants in the schemas the API exposes (api-grants,
// function-grants).
const triggersCheckedElsewhere = new Set([
  ...webhookTriggers.map((trigger) => `trigger ${trigger.trigger} on public.${trigger.table}`),
  ...catalogQueues.map((queue) => `trigger notify_insert on pgmq.q_${queue.name}`),
]);

function coveredElsewhere(difference: SchemaDifference): boolean {
  const kinds = ["missing-function", "missing-queue", "missing-cron-job", "unscheduled-cron-job"];
  if (kinds.includes(difference.kind)) return true;
  if (difference.kind === "missing-trigger" || difference.kind === "different-trigger") {
    return triggersCheckedElsewhere.has(difference.object);
  }
  if (difference.kind !== "missing-grant" && difference.kind !== "excess-grant") return false;
  const schema = /^\w+ ([^.]+)\./.exec(difference.object)?.[1];
  return (exposedSchemas as readonly string[]).includes(schema ?? "");
}

const foreignLabels: Record<ForeignObject["kind"], string> = {
  table: "tables",
  view: "views",
  column: "columns",
  constraint: "constraints",
  index: "indexes",
  policy: "policies",
  function: "functions",
  trigger: "triggers",
  "cron-job": "cron jobs",
  queue: "queues",
};

/**
 * The database against supabase/schema.json (the state every migration makes): each table, column,
 * constraint, index, policy, function body, trigger, cron job definition and queue of ours is there
 * as the migrations make it. Objects that are not ours (the app's tables and functions, the team's
 * cron jobs, seed-era helpers) are listed as information, never failed.
 */
export function createSchemaStateCheck(expected: () => SchemaState = expectedSchema): Check {
  return {
    name: "schema-state",
    description:
      "every table, column, constraint, index, policy, function, trigger, cron job and queue of ours is as supabase/schema.sql describes it; what is not ours is listed",
    async run(db: Queryable) {
      const comparison = compareSchema(expected(), await introspectSchema(db));
      const findings: Finding[] = comparison.differences
        .filter((difference) => !coveredElsewhere(difference))
        .map((difference) => fail(difference.message, fixFor(difference)));
      // Left NOT VALID by db:adopt for rows that break them: new rows are checked; a person fixes the rows.
      for (const constraint of comparison.unvalidated) findings.push(warn(constraint.message));
      const byKind = new Map<ForeignObject["kind"], string[]>();
      for (const object of comparison.foreign)
        byKind.set(object.kind, [...(byKind.get(object.kind) ?? []), object.object]);
      for (const [kind, objects] of byKind) {
        findings.push(
          info(`not ours, left alone: ${objects.length} ${foreignLabels[kind]}: ${objects.join(", ")}`),
        );
      }
      const state = expected();
      return report(
        findings,
        `${state.tables.length} tables and views, ${state.functions.length} functions, ${state.triggers.length} triggers, ${state.cronJobs.length} cron jobs, ${state.queues.length} queues; ${comparison.foreign.length} objects not ours`,
      );
    },
  };
}

/** How to make it right, pointing at the block of supabase/schema.sql that shows ours. */
function fixFor(difference: SchemaDifference): string {
  if (difference.kind === "extra-overload") {
    return `pnpm db:adopt replaces it; by hand: drop function ${difference.object} once nothing calls it (ours are the "-- function ${difference.object.slice(0, difference.object.indexOf("("))}(" blocks of supabase/schema.sql)`;
  }
  if (difference.kind === "extra-trigger") {
    return `pnpm db:adopt replaces it; by hand: drop ${difference.object} (ours already runs that function on that event)`;
  }
  return `apply the migrations (pnpm db:migrate), or pnpm db:adopt on a database whose objects were made by hand; the migrations' version is the block "-- ${subjectOf(difference)}" of supabase/schema.sql`;
}

/** The comment line of the block that describes the object. */
function subjectOf(difference: SchemaDifference): string {
  const { kind, object } = difference;
  if (kind.endsWith("-function")) return `function ${object}`;
  if (kind.endsWith("-trigger") || kind.endsWith("-cron-job")) return object;
  if (object.endsWith("(pgmq queue table)")) return object.replace(" (pgmq queue table)", "");
  if (object.startsWith("function ")) return object;
  // A table, or something of one: "public.t", "public.t.c", "constraint x on public.t", "column public.t.c".
  const table = object
    .replace(/^.* on /, "")
    .replace(/^(table|column) /, "")
    .split(".")
    .slice(0, 2)
    .join(".");
  return `table ${table}`;
}

export const schemaStateCheck: Check = createSchemaStateCheck();
