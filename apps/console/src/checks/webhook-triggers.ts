import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { applyMigrationFix, migrationSources } from "./migration-sources.ts";

/** A "database webhook": an after, row-level trigger that queues work (032_webhook_triggers.sql). */
export interface WebhookTrigger {
  readonly trigger: string;
  /** Table in schema public. */
  readonly table: string;
  /** Trigger function in schema public. */
  readonly function: string;
  readonly event: "insert" | "update";
  /** What stops happening without it, for the failure message. */
  readonly effect: string;
}

export const webhookTriggers: readonly WebhookTrigger[] = [
  {
    trigger: "on_checkup_completed",
    table: "assessments",
    function: "handle_completed_checkup",
    event: "update",
    effect: "a completed checkup queues no report, email or event",
  },
  {
    trigger: "on_new_appointment",
    table: "appointments",
    function: "handle_new_appointment",
    event: "insert",
    effect: "a booking sends no confirmation email",
  },
  {
    trigger: "on_payment_status_change",
    table: "payments",
    function: "handle_payment_status_change",
    event: "update",
    effect: "a payment marks no appointment paid and notifies nobody",
  },
];

interface TriggerRow {
  trigger_name: string;
  table_name: string;
  enabled: string;
  function_name: string;
  tgtype: number;
}

// pg_trigger.tgtype bits
const ROW = 1;
const BEFORE = 2;
const INSERT = 4;
const DELETE = 8;
const UPDATE = 16;
const TRUNCATE = 32;
const INSTEAD = 64;

/** The triggers of 032 exist, enabled, on the right tables, calling the right functions. */
export const webhookTriggersCheck: Check = {
  name: "webhook-triggers",
  description:
    "on_checkup_completed, on_new_appointment and on_payment_status_change exist and are enabled on their tables",
  async run(db: Queryable) {
    const { rows } = await db.query<TriggerRow>(
      `select t.tgname as trigger_name,
              pg_catalog.format('%I.%I', tn.nspname, c.relname) as table_name,
              t.tgenabled::text as enabled,
              pg_catalog.format('%I.%I', pn.nspname, p.proname) as function_name,
              t.tgtype::integer as tgtype
       from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid
       join pg_catalog.pg_namespace tn on tn.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid
       join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
       where not t.tgisinternal and t.tgname = any($1::text[])
       order by t.tgname, table_name`,
      [webhookTriggers.map((expected) => expected.trigger)],
    );

    const findings: Finding[] = [];
    for (const expected of webhookTriggers) {
      const table = `public.${expected.table}`;
      const recreate = applyMigrationFix(
        migrationSources.triggers,
        `re-create it with the "create trigger ${expected.trigger}" statement of that file, in a new migration`,
      );
      const found = rows.filter((row) => row.trigger_name === expected.trigger);
      const onTable = found.find((row) => row.table_name === table);
      if (onTable === undefined) {
        const elsewhere = found.map((row) => row.table_name);
        findings.push(
          fail(
            elsewhere.length === 0
              ? `trigger ${expected.trigger} on ${table} is missing: ${expected.effect}`
              : `trigger ${expected.trigger} is on ${elsewhere.join(", ")}, not on ${table}: ${expected.effect}`,
            recreate,
          ),
        );
        continue;
      }
      if (onTable.enabled !== "O" && onTable.enabled !== "A") {
        findings.push(
          fail(
            `trigger ${expected.trigger} on ${table} is disabled: ${expected.effect}`,
            `alter table ${table} enable trigger ${expected.trigger}`,
          ),
        );
      }
      const problems: string[] = [];
      if (onTable.function_name !== `public.${expected.function}`) {
        problems.push(`calls ${onTable.function_name} instead of public.${expected.function}`);
      }
      const fires = describeTiming(onTable.tgtype);
      const wanted = `after ${expected.event} for each row`;
      if (fires !== wanted) problems.push(`fires ${fires} instead of ${wanted}`);
      if (problems.length > 0) {
        findings.push(fail(`trigger ${expected.trigger} on ${table} ${problems.join(" and ")}`, recreate));
      }
    }
    return report(findings, `${webhookTriggers.length} triggers enabled`);
  },
};

/** `after insert for each row`, `before update or delete for each statement`, ... */
function describeTiming(tgtype: number): string {
  const timing = tgtype & INSTEAD ? "instead of" : tgtype & BEFORE ? "before" : "after";
  const events = [
    [INSERT, "insert"],
    [UPDATE, "update"],
    [DELETE, "delete"],
    [TRUNCATE, "truncate"],
  ] as const;
  const names = events.filter(([bit]) => tgtype & bit).map(([, name]) => name);
  return `${timing} ${names.join(" or ")} for each ${tgtype & ROW ? "row" : "statement"}`;
}
