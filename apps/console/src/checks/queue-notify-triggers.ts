import { type Check, type Finding, fail, type Queryable, report, warn } from "../doctor/check.ts";
import { type CatalogQueue, catalogQueues } from "./catalog-queues.ts";
import { applyMigrationFix, migrationSources } from "./migration-sources.ts";

interface NotifyTriggerRow {
  queue_name: string;
  table_exists: boolean;
  trigger_name: string | null;
  enabled: string | null;
  after_insert: boolean | null;
  row_level: boolean | null;
  argument_matches: boolean | null;
}

/**
 * Each catalog queue's table (pgmq.q_<queue>) has the after-insert trigger that calls
 * public.pgmq_notify_insert('<queue>'), so the worker is woken by NOTIFY instead of only polling.
 */
export function createQueueNotifyTriggersCheck(queues: readonly CatalogQueue[] = catalogQueues): Check {
  return {
    name: "queue-notify-triggers",
    description: "each queue table has its NOTIFY trigger (pgmq_notify_insert), enabled, for the right queue",
    async run(db: Queryable) {
      // tgtype bits: 1 row-level, 2 before, 4 insert, 64 instead of. tgargs holds the arguments,
      // each followed by a zero byte.
      const { rows } = await db.query<NotifyTriggerRow>(
        `select q.name as queue_name,
                c.oid is not null as table_exists,
                t.tgname as trigger_name,
                t.tgenabled::text as enabled,
                (t.tgtype & 4) = 4 and (t.tgtype & 66) = 0 as after_insert,
                (t.tgtype & 1) = 1 as row_level,
                t.tgargs = pg_catalog.convert_to(q.name, 'UTF8') || '\\x00'::bytea as argument_matches
         from unnest($1::text[]) with ordinality as q(name, position)
         left join pg_catalog.pg_class c
           on c.oid = pg_catalog.to_regclass(pg_catalog.format('pgmq.%I', 'q_' || q.name))
         left join (
           pg_catalog.pg_trigger t
           join pg_catalog.pg_proc p on p.oid = t.tgfoid and p.proname = 'pgmq_notify_insert'
           join pg_catalog.pg_namespace n on n.oid = p.pronamespace and n.nspname = 'public'
         ) on t.tgrelid = c.oid and not t.tgisinternal
         order by q.position, t.tgname`,
        [queues.map((queue) => queue.name)],
      );

      const findings: Finding[] = [];
      for (const queue of queues) {
        const triggers = rows.filter((row) => row.queue_name === queue.name);
        const table = `pgmq.q_${queue.name}`;
        const create = `create or replace trigger notify_insert after insert on ${table} for each statement execute function public.pgmq_notify_insert('${queue.name}')`;
        if (triggers[0]?.table_exists !== true) {
          findings.push(
            fail(
              `${table} does not exist, so nothing wakes the worker for ${queue.name}`,
              applyMigrationFix(migrationSources.queues, `select pgmq.create('${queue.name}'); ${create}`),
            ),
          );
          continue;
        }
        const notify = triggers.filter((row) => row.trigger_name !== null);
        if (notify.length === 0) {
          findings.push(
            fail(
              `${table} has no NOTIFY trigger: the worker only finds ${queue.name}'s messages when it polls`,
              applyMigrationFix(migrationSources.queues, create),
            ),
          );
          continue;
        }
        const working = notify.filter(
          (row) =>
            (row.enabled === "O" || row.enabled === "A") &&
            row.after_insert === true &&
            row.argument_matches === true,
        );
        if (working.length === 0) {
          const [first] = notify;
          const problems: string[] = [];
          if (first?.enabled !== "O" && first?.enabled !== "A") problems.push("is disabled");
          if (first?.after_insert !== true) problems.push("does not fire after insert");
          if (first?.argument_matches !== true) problems.push(`does not pass the queue name '${queue.name}'`);
          findings.push(
            fail(
              `the NOTIFY trigger ${first?.trigger_name} on ${table} ${problems.join(" and ")}: the worker only finds ${queue.name}'s messages when it polls`,
              first?.enabled !== "O" && first?.enabled !== "A" && problems.length === 1
                ? `alter table ${table} enable trigger ${first?.trigger_name}`
                : applyMigrationFix(migrationSources.queues, create),
            ),
          );
          continue;
        }
        if (working.every((row) => row.row_level === true)) {
          findings.push(
            warn(
              `the NOTIFY trigger on ${table} is row-level: it notifies once per message instead of once per statement`,
              create,
            ),
          );
        }
      }
      return report(findings, `${queues.length} queue tables notify on insert`);
    },
  };
}

export const queueNotifyTriggersCheck: Check = createQueueNotifyTriggersCheck();
