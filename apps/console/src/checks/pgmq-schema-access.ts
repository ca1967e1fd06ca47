import { type Check, type Finding, fail, type Queryable, report } from "../doctor/check.ts";
import { missingApiRoles } from "./api-roles.ts";
import { migrationSources } from "./migration-sources.ts";

interface SchemaUsageRow {
  present: boolean;
  anon: boolean | null;
  authenticated: boolean | null;
  service_role: boolean | null;
}

/**
 * The browser roles cannot reach the queues directly (no usage on schema pgmq); service_role can.
 * The one way in for a browser is the narrow security definer functions.
 */
export const pgmqSchemaAccessCheck: Check = {
  name: "pgmq-schema-access",
  description: "anon and authenticated have no usage on schema pgmq; service_role has",
  async run(db: Queryable) {
    const roles = await missingApiRoles(db);
    if (roles.length > 0) return report(roles);
    const { rows } = await db.query<SchemaUsageRow>(
      `select pg_catalog.to_regnamespace('pgmq') is not null as present,
              case when pg_catalog.to_regnamespace('pgmq') is not null
                then pg_catalog.has_schema_privilege('anon', 'pgmq', 'usage') end as anon,
              case when pg_catalog.to_regnamespace('pgmq') is not null
                then pg_catalog.has_schema_privilege('authenticated', 'pgmq', 'usage') end as authenticated,
              case when pg_catalog.to_regnamespace('pgmq') is not null
                then pg_catalog.has_schema_privilege('service_role', 'pgmq', 'usage') end as service_role`,
    );
    const row = rows[0];
    if (row?.present !== true) {
      return report([
        fail(
          "schema pgmq does not exist",
          `enable pgmq (Supabase: Database > Integrations > Queues), then apply supabase/migrations/${migrationSources.queues} (pnpm db:migrate)`,
        ),
      ]);
    }
    const findings: Finding[] = [];
    for (const role of ["anon", "authenticated"] as const) {
      if (row[role] === true) {
        findings.push(
          fail(
            `${role} has usage on schema pgmq: with table grants the browser could read or write queue messages directly`,
            "revoke all on schema pgmq from public, anon, authenticated",
          ),
        );
      }
    }
    if (row.service_role !== true) {
      findings.push(
        fail(
          "service_role has no usage on schema pgmq: servers using the service key cannot reach the queues",
          "grant usage on schema pgmq to service_role",
        ),
      );
    }
    return report(findings, "only service_role reaches pgmq");
  },
};
