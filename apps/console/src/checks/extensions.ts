import { type Check, type Finding, fail, type Queryable, report, warn } from "../doctor/check.ts";
import { migrationSources } from "./migration-sources.ts";

/**
 * The pgmq functions our SQL and the worker call, by signature: all pgmq 1.5 API (what Supabase
 * ships). The extension has them; so must the pgmq-compatible SQL the devstack installs without it.
 */
export const pgmqFunctionSignatures = [
  "pgmq.create(text)",
  "pgmq.drop_queue(text)",
  "pgmq.list_queues()",
  "pgmq.format_table_name(text,text)",
  "pgmq.send(text,jsonb)",
  "pgmq.send(text,jsonb,integer)",
  "pgmq.send_batch(text,jsonb[])",
  "pgmq.read(text,integer,integer,jsonb)",
  "pgmq.set_vt(text,bigint,integer)",
  "pgmq.archive(text,bigint)",
  "pgmq.archive(text,bigint[])",
  "pgmq.delete(text,bigint)",
  "pgmq.delete(text,bigint[])",
  "pgmq.metrics(text)",
  "pgmq.metrics_all()",
] as const;

const MINIMUM_PGMQ = [1, 5] as const;

const ENABLE_PGMQ =
  "enable pgmq (Supabase: Database > Integrations > Queues; locally `pnpm dev` installs it), " +
  `then apply supabase/migrations/${migrationSources.queues} (pnpm db:migrate)`;

interface ExtensionsRow {
  pgmq_version: string | null;
  pgmq_schema: boolean;
  pgmq_meta: boolean;
  missing_functions: string[];
  pg_cron_version: string | null;
  pg_cron_available: boolean;
  cron_database: string | null;
  database: string;
}

/**
 * pgmq: the extension, or the pgmq-compatible schema with every 1.5 function we use (says which).
 * pg_cron: installed, or a WARN that the worker's scheduler runs the jobs.
 */
export const extensionsCheck: Check = {
  name: "extensions",
  description:
    "pgmq is installed (the extension, or the pgmq-compatible SQL with the 1.5 functions); pg_cron, or the worker's scheduler in its place",
  async run(db: Queryable) {
    const { rows } = await db.query<ExtensionsRow>(
      `select
         (select e.extversion from pg_catalog.pg_extension e where e.extname = 'pgmq') as pgmq_version,
         pg_catalog.to_regnamespace('pgmq') is not null as pgmq_schema,
         pg_catalog.to_regclass('pgmq.meta') is not null as pgmq_meta,
         case when pg_catalog.to_regnamespace('pgmq') is null then $1::text[]
              else array(select s from unnest($1::text[]) as s where pg_catalog.to_regprocedure(s) is null)
         end as missing_functions,
         (select e.extversion from pg_catalog.pg_extension e where e.extname = 'pg_cron') as pg_cron_version,
         exists (select from pg_catalog.pg_available_extensions a where a.name = 'pg_cron') as pg_cron_available,
         nullif(pg_catalog.current_setting('cron.database_name', true), '') as cron_database,
         pg_catalog.current_database() as database`,
      [[...pgmqFunctionSignatures]],
    );
    const row = rows[0];
    if (row === undefined) throw new Error("the extensions query returned no row");

    const findings: Finding[] = [];
    const notes: string[] = [];

    if (!row.pgmq_schema) {
      findings.push(fail("pgmq is not installed (no pgmq extension, no pgmq schema)", ENABLE_PGMQ));
    } else {
      const kind =
        row.pgmq_version === null
          ? "pgmq-compatible SQL (schema pgmq, no extension: local development only)"
          : `pgmq extension ${row.pgmq_version}`;
      if (row.pgmq_version !== null && olderThan(row.pgmq_version, MINIMUM_PGMQ)) {
        findings.push(
          fail(
            `pgmq extension ${row.pgmq_version} is older than ${MINIMUM_PGMQ.join(".")}: our SQL uses the pgmq 1.5 API`,
            "alter extension pgmq update (Supabase: Database > Extensions > pgmq)",
          ),
        );
      }
      const missing = [...row.missing_functions];
      if (!row.pgmq_meta) missing.unshift("table pgmq.meta");
      if (missing.length > 0) {
        findings.push(
          fail(
            `${kind} lacks pgmq 1.5 objects: ${missing.join(", ")}`,
            row.pgmq_version === null
              ? "re-install the pgmq-compatible SQL (restart `pnpm dev`, which installs packages/devstack/sql/pgmq-compat.sql), or use the pgmq extension"
              : "alter extension pgmq update, or drop and re-create the extension (Supabase: Database > Extensions)",
          ),
        );
      }
      notes.push(kind);
    }

    if (row.pg_cron_version !== null) {
      notes.push(`pg_cron ${row.pg_cron_version}`);
    } else {
      const where =
        row.cron_database !== null && row.cron_database !== row.database
          ? ` (it lives in database ${row.cron_database})`
          : row.pg_cron_available
            ? ""
            : " (not available on this server)";
      findings.push(
        warn(
          `pg_cron is not installed in database ${row.database}${where}: the worker's scheduler runs the jobs (WORKER_SCHEDULER=auto)`,
          "nothing, if a worker runs with WORKER_SCHEDULER=auto (the default); to use pg_cron instead, enable it " +
            "(Supabase: Database > Integrations > Cron) and run select automation.schedule_cron_jobs()",
        ),
      );
    }
    return report(findings, notes.join("; "));
  },
};

/** Whether a version such as `1.4.2` is below `[major, minor]`. */
function olderThan(version: string, minimum: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  return major < minimum[0] || (major === minimum[0] && minor < minimum[1]);
}
