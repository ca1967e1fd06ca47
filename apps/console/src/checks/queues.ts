import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { type CatalogQueue, catalogQueues } from "./catalog-queues.ts";
import { applyMigrationFix, migrationSources } from "./migration-sources.ts";

/** Every catalog queue and its dead-letter queue is in pgmq.list_queues(). */
export function createQueuesCheck(queues: readonly CatalogQueue[] = catalogQueues): Check {
  return {
    name: "queues",
    description: "every catalog queue and its dead-letter queue exists (pgmq.list_queues())",
    async run(db: Queryable) {
      const { rows: schema } = await db.query<{ present: boolean }>(
        "select pg_catalog.to_regprocedure('pgmq.list_queues()') is not null as present",
      );
      if (schema[0]?.present !== true) {
        return report([
          fail(
            "pgmq is not installed: there are no queues",
            `enable pgmq (Supabase: Database > Integrations > Queues), then apply supabase/migrations/${migrationSources.queues} (pnpm db:migrate)`,
          ),
        ]);
      }
      const { rows } = await db.query<{ queue_name: string }>(
        "select queue_name::text as queue_name from pgmq.list_queues()",
      );
      const existing = new Set(rows.map((row) => row.queue_name));
      const findings: Finding[] = [];
      for (const queue of queues) {
        for (const [name, what] of [
          [queue.name, "queue"],
          [queue.deadLetterQueue, `dead-letter queue of ${queue.name}`],
        ] as const) {
          if (!existing.has(name)) {
            findings.push(
              fail(
                `${what} ${name} does not exist`,
                applyMigrationFix(migrationSources.queues, `select pgmq.create('${name}')`),
              ),
            );
          }
        }
      }
      return report(findings, `${queues.length} queues and their ${queues.length} dead-letter queues`);
    },
  };
}

export const queuesCheck: Check = createQueuesCheck();
