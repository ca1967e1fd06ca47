import { z } from "zod";

/**
 * The shape of a database's state as far as the automation cares: what `introspectSchema()` reads
 * from a live database, what `supabase/schema.json` holds for the migrated one, and what
 * `renderSchemaSql()` prints as `supabase/schema.sql`.
 *
 * Names are schema-qualified as PostgreSQL's `format('%I.%I')` prints them (`public.profiles`,
 * `public.pgmq_send(text, jsonb, integer)`), definitions are PostgreSQL's own deparsed text
 * (`pg_get_functiondef`, `pg_get_constraintdef`, ...) read with `search_path = pg_catalog`, so every
 * name in them is qualified. Every list is sorted by name (code-unit order, not the database's
 * collation), so two states compare with a deep equality and print byte-identically.
 */

const grantSchema = z.object({
  /** A role name, or `public` for PUBLIC. */
  grantee: z.string(),
  /** Upper case as PostgreSQL prints them (`SELECT`, `EXECUTE`), sorted. */
  privileges: z.array(z.string()),
});
export type GrantState = z.infer<typeof grantSchema>;

const columnSchema = z.object({
  name: z.string(),
  /** `format_type()`: `uuid`, `timestamp with time zone`, `character varying(20)`. */
  type: z.string(),
  notNull: z.boolean(),
  /** The default expression, or null (also null for a generated column). */
  default: z.string().nullable(),
  /** `a` generated always as identity, `d` by default, `` none. */
  identity: z.enum(["", "a", "d"]),
  /** The expression of a stored generated column, or null. */
  generated: z.string().nullable(),
  /** Column-level grants (`grant update (full_name) ...`). */
  grants: z.array(grantSchema),
  comment: z.string().nullable(),
});
export type ColumnState = z.infer<typeof columnSchema>;

const constraintSchema = z.object({
  name: z.string(),
  /** p primary key, f foreign key, u unique, c check, x exclusion. */
  type: z.enum(["p", "f", "u", "c", "x"]),
  /** `pg_get_constraintdef()`: `CHECK ((amount > 0))`. */
  definition: z.string(),
});
export type ConstraintState = z.infer<typeof constraintSchema>;

const namedDefinitionSchema = z.object({ name: z.string(), definition: z.string() });
/** An index (not one backing a constraint) or a row security policy, with its SQL. */
export type NamedDefinition = z.infer<typeof namedDefinitionSchema>;

const tableSchema = z.object({
  /** `public.profiles`. */
  name: z.string(),
  kind: z.enum(["table", "view"]),
  rowSecurity: z.boolean(),
  columns: z.array(columnSchema),
  constraints: z.array(constraintSchema),
  /** `pg_get_indexdef()`, for indexes that do not back a constraint. */
  indexes: z.array(namedDefinitionSchema),
  /** `create policy ...` as rendered from pg_policy. */
  policies: z.array(namedDefinitionSchema),
  grants: z.array(grantSchema),
  comment: z.string().nullable(),
});
export type TableState = z.infer<typeof tableSchema>;

const functionSchema = z.object({
  /** `public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)`. */
  signature: z.string(),
  /** `public.queue_email_task`: what overloads share. */
  name: z.string(),
  /** `pg_get_functiondef()`: the whole `CREATE OR REPLACE FUNCTION` with its current body. */
  definition: z.string(),
  grants: z.array(grantSchema),
  comment: z.string().nullable(),
});
export type FunctionState = z.infer<typeof functionSchema>;

const triggerSchema = z.object({
  /** The table it fires on: `public.assessments`, `auth.users`, `pgmq.q_email_queue`. */
  table: z.string(),
  name: z.string(),
  /** The function it executes: `public.handle_completed_checkup`. */
  function: z.string(),
  /** `pg_get_triggerdef()`. */
  definition: z.string(),
  enabled: z.boolean(),
});
export type TriggerState = z.infer<typeof triggerSchema>;

const cronJobSchema = z.object({
  name: z.string(),
  schedule: z.string(),
  command: z.string(),
  enabled: z.boolean(),
});
export type CronJobState = z.infer<typeof cronJobSchema>;

export const schemaStateSchema = z.object({
  /** Tables and views of our schemas (public, automation, analytics), extension members left out. */
  tables: z.array(tableSchema),
  /** Indexes we add to pgmq's queue tables (pgmq's own left out), e.g. the email queue's priority index. */
  queueIndexes: z.array(namedDefinitionSchema),
  /** Functions of our schemas, extension members left out. */
  functions: z.array(functionSchema),
  /** Triggers on tables of our schemas, and triggers elsewhere that execute a function of ours. */
  triggers: z.array(triggerSchema),
  /** The job definitions, automation.cron_jobs (empty when the table does not exist). */
  cronJobs: z.array(cronJobSchema),
  /**
   * cron.job (name, schedule, command, active as `enabled`); null where pg_cron is not installed in
   * this database. Not part of supabase/schema.sql: the migrated database's jobs are `cronJobs`.
   */
  scheduledCronJobs: z.array(cronJobSchema).nullable(),
  /** pgmq queue names (`pgmq.list_queues()`), dead-letter queues included; empty without pgmq. */
  queues: z.array(z.string()),
});
export type SchemaState = z.infer<typeof schemaStateSchema>;

/** Code-unit order, the same on every server whatever its collation. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
