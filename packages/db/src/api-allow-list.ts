/**
 * Who may reach what through the API: the one list of every function, table, view and sequence in
 * the schemas PostgREST exposes, and the API roles allowed to use each. Anything in those schemas
 * that is not listed here, or that grants a role more than listed, is a finding
 * (`packages/db/test/api-grants-walk.test.ts` walks a migrated database; `pnpm run doctor` checks a
 * live one with the same list). Add an entry in the same change as the migration that creates the
 * object, with the migration's file name (the one that creates it, not a later one that re-declares
 * it: supabase/schema.sql shows the current body; test/api-allow-list.test.ts checks this).
 *
 * The single source of truth for our API functions. Derived from it: the doctor's expected
 * functions (apps/console). Tested against it: the consumer's start-up list
 * (@balansity/queues, consumer-functions.ts) and the function table of docs/queue-contract.md.
 *
 * Functions in schema pgmq (not exposed) are service_role only, whatever pgmq version is installed.
 */

/**
 * The roles PostgREST switches to: anon (no session), authenticated (a user), operator (a user whose
 * JWT the access token hook marked an operator's, migration 046), service_role (servers).
 */
export const apiRoles = ["anon", "authenticated", "operator", "service_role"] as const;
export type ApiRole = (typeof apiRoles)[number];

/** The schemas PostgREST serves (`[api] schemas` of supabase/config.toml). */
export const exposedSchemas = ["public", "graphql_public"] as const;

/** Privileges on a table or view (column grants count: `update (full_name)` is `update`). */
export type TablePrivilege =
  | "select"
  | "insert"
  | "update"
  | "delete"
  | "truncate"
  | "references"
  | "trigger";
export const tablePrivileges: readonly TablePrivilege[] = [
  "select",
  "insert",
  "update",
  "delete",
  "truncate",
  "references",
  "trigger",
];

export interface AllowedFunction {
  /** Roles with EXECUTE; an empty list for trigger functions and internals. */
  readonly execute: readonly ApiRole[];
  /**
   * Why a security definer function stays executable by authenticated (Supabase's advisor warns about
   * each one: lint authenticated_security_definer_function_executable); the doctor prints it.
   */
  readonly definerBecause?: string;
  /** The migration that creates it. */
  readonly migration: string;
}

export interface AllowedTable {
  readonly privileges: Readonly<Partial<Record<ApiRole, readonly TablePrivilege[]>>>;
  readonly migration: string;
}

const service = ["service_role"] as const;
const signedIn = ["authenticated", "service_role"] as const;
/** The console: operators (the operator role, then is_operator() inside) and servers. */
const operators = ["operator", "service_role"] as const;
const none = [] as const;
const everything = tablePrivileges;

/** Every function of the exposed schemas, by `schema.name(argument types)` as PostgreSQL prints them. */
export const allowedFunctions: Readonly<Record<string, AllowedFunction>> = {
  // 001: trigger functions and the time zone check (called by check constraints as the writing role).
  "public.set_updated_at()": { execute: none, migration: "001_base_schema.sql" },
  "public.set_assessment_status_times()": { execute: none, migration: "001_base_schema.sql" },
  "public.handle_new_user()": { execute: none, migration: "001_base_schema.sql" },
  "public.handle_user_email_change()": { execute: none, migration: "001_base_schema.sql" },
  "public.is_valid_timezone(text)": { execute: signedIn, migration: "001_base_schema.sql" },
  // 030: cron jobs (pg_cron runs them as their owner; the worker's scheduler as service_role).
  "public.update_appointment_statuses(timestamp with time zone)": {
    execute: service,
    migration: "030_setup_cron_jobs.sql",
  },
  "public.send_appointment_reminders(timestamp with time zone)": {
    execute: service,
    migration: "030_setup_cron_jobs.sql",
  },
  "public.cleanup_old_assessments(timestamp with time zone)": {
    execute: service,
    migration: "030_setup_cron_jobs.sql",
  },
  // 031: producers.
  "public.pgmq_notify_insert()": { execute: none, migration: "031_setup_queues.sql" },
  "public.is_email_address(text)": { execute: service, migration: "031_setup_queues.sql" },
  "public.queue_email_task(text, text, text, jsonb, integer, text, text, text, uuid)": {
    execute: service,
    migration: "031_setup_queues.sql",
  },
  "public.queue_report_generation(uuid, uuid, text, text, text)": {
    execute: service,
    migration: "031_setup_queues.sql",
  },
  "public.queue_payment_processing(uuid, text, text)": {
    execute: service,
    migration: "031_setup_queues.sql",
  },
  "public.track_event(text, text, uuid, jsonb, timestamp with time zone, text)": {
    execute: service,
    migration: "031_setup_queues.sql",
  },
  // 032: database webhooks.
  "public.handle_completed_checkup()": { execute: none, migration: "032_webhook_triggers.sql" },
  "public.handle_new_appointment()": { execute: none, migration: "032_webhook_triggers.sql" },
  "public.handle_payment_status_change()": { execute: none, migration: "032_webhook_triggers.sql" },
  // 033: the queue RPCs; the one a user calls checks auth.uid() itself.
  "public.pgmq_send(text, jsonb, integer)": { execute: service, migration: "033_pgmq_rpc_wrappers.sql" },
  "public.pgmq_read(text, integer, integer)": { execute: service, migration: "033_pgmq_rpc_wrappers.sql" },
  "public.pgmq_archive(text, bigint)": { execute: service, migration: "033_pgmq_rpc_wrappers.sql" },
  "public.pgmq_delete(text, bigint)": { execute: service, migration: "033_pgmq_rpc_wrappers.sql" },
  "public.pgmq_metrics(text)": { execute: service, migration: "033_pgmq_rpc_wrappers.sql" },
  "public.pgmq_dead_letter(text, bigint, text, text, integer)": {
    execute: service,
    migration: "033_pgmq_rpc_wrappers.sql",
  },
  // Security definer on purpose (046's header): it reads the report queue, writes the per-user
  // request log and calls a service_role-only producer; it checks auth.uid() against the owner.
  // The one `authenticated_security_definer_function_executable` advisor WARN left.
  "public.request_assessment_report(uuid)": {
    execute: ["authenticated"],
    definerBecause:
      "it reads the report queue, writes the per-user request log and calls a service_role-only producer, which users must not be granted; it checks auth.uid() against the checkup's owner itself",
    migration: "033_pgmq_rpc_wrappers.sql",
  },
  // 038: the wake-up protocol of the queue consumers.
  "public.pgmq_consumer_busy(text, text, integer)": {
    execute: service,
    migration: "038_trigger_wakeups.sql",
  },
  "public.pgmq_consumer_waiting(text, text, integer, integer)": {
    execute: service,
    migration: "038_trigger_wakeups.sql",
  },
  "public.pgmq_consumer_leave(text, text)": { execute: service, migration: "038_trigger_wakeups.sql" },
  // 042: a consumer's archive and next read in one round trip.
  "public.pgmq_archive_and_read(text, bigint[], integer, integer, jsonb)": {
    execute: service,
    migration: "042_consumer_archive_and_read.sql",
  },
  // 045: attempts count from the worker's first read (reads by earlier consumers are not attempts).
  "public.pgmq_first_reads(text, bigint[], integer[])": {
    execute: service,
    migration: "045_seed_backlog_and_saved_results.sql",
  },
  // 049: the SMTP send budget and handing messages back without spending an attempt.
  "public.email_budget_read(text, integer, double precision, double precision, integer, integer, bigint[], jsonb)":
    {
      execute: service,
      migration: "049_email_send_budget.sql",
    },
  "public.email_budget_status(jsonb)": { execute: service, migration: "049_email_send_budget.sql" },
  "public.pgmq_hand_back(text, bigint[], integer)": {
    execute: service,
    migration: "049_email_send_budget.sql",
  },
  // 039: the upcoming-appointments limit.
  "public.check_upcoming_appointment_limit()": { execute: none, migration: "039_security_limits.sql" },
  // 040: reports.
  "public.score_assessment(text, jsonb)": { execute: signedIn, migration: "040_reports.sql" },
  "public.set_server_results()": { execute: none, migration: "040_reports.sql" },
  // 047: a fresh signed link to one's own report (the rule of the reports bucket's policy).
  "public.owns_report_object(text)": {
    execute: ["authenticated"],
    migration: "047_report_download_links.sql",
  },
  // 041: the operator console, executable by the operator role since 046; every function also
  // refuses a caller that is not an operator (is_operator()).
  "public.is_operator()": {
    execute: ["authenticated", "operator", "service_role"],
    migration: "041_operator_console.sql",
  },
  "public.console_queue_overview()": { execute: operators, migration: "041_operator_console.sql" },
  "public.console_queue_history(text, integer)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_peek_messages(text, integer)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_dead_letters(text, integer, text)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_dead_letter_ids(text, text)": { execute: operators, migration: "041_operator_console.sql" },
  "public.console_retry_dead_letters(text, bigint[], text)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_discard_dead_letters(text, bigint[], text)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_cron_jobs()": { execute: operators, migration: "041_operator_console.sql" },
  "public.console_cron_runs(text, integer)": { execute: operators, migration: "041_operator_console.sql" },
  "public.console_email_deliveries(text, integer)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_queue_test_email(text, text, text)": {
    execute: operators,
    migration: "041_operator_console.sql",
  },
  "public.console_reports(integer)": { execute: operators, migration: "041_operator_console.sql" },
  "public.console_regenerate_report(uuid)": { execute: operators, migration: "041_operator_console.sql" },
  // 055: the send budget in the web console.
  "public.console_email_budget(jsonb)": { execute: operators, migration: "055_email_budget_console.sql" },
  // 046: Supabase Auth's access token hook (supabase_auth_admin only, not an API role).
  "public.custom_access_token_hook(jsonb)": {
    execute: none,
    migration: "046_operator_role_and_email_resends.sql",
  },
  // 048: the money path (YooKassa notifications, payment start, refunds, cancellations).
  "public.apply_payment_notification(text, text, text, jsonb)": {
    execute: service,
    migration: "048_payment_notifications.sql",
  },
  "public.start_appointment_payment(uuid)": {
    execute: ["authenticated"],
    definerBecause:
      "users may not insert into public.payments (the amount comes from the appointment's price, never from the client); it checks auth.uid() against the appointment's owner itself",
    migration: "048_payment_notifications.sql",
  },
  "public.attach_provider_payment(uuid, text)": {
    execute: service,
    migration: "048_payment_notifications.sql",
  },
  "public.handle_payment_reversed()": { execute: none, migration: "048_payment_notifications.sql" },
  "public.handle_appointment_cancelled()": { execute: none, migration: "048_payment_notifications.sql" },
  // 054: the one-click unsubscribe of reminder emails (the `unsubscribe` Edge Function).
  "public.unsubscribe_reminder_emails(uuid)": {
    execute: service,
    migration: "054_reminder_unsubscribe.sql",
  },
  // 051: one user's data erased on request (`balansity user erase`).
  "public.erase_user_data(uuid, text, boolean)": {
    execute: service,
    migration: "051_personal_data_retention.sql",
  },
  // 052: worker heartbeats, the alert webhook outbox, and the console's view of the alerts.
  "public.worker_heartbeat(text, text, integer, text, timestamp with time zone, boolean)": {
    execute: service,
    migration: "052_operator_alerts.sql",
  },
  "public.alert_webhooks_claim(integer, integer)": { execute: service, migration: "052_operator_alerts.sql" },
  "public.alert_webhook_result(bigint, text)": { execute: service, migration: "052_operator_alerts.sql" },
  "public.console_alerts()": { execute: operators, migration: "052_operator_alerts.sql" },
};

/** Every table, view and sequence of the exposed schemas, by `schema.name`. */
export const allowedTables: Readonly<Record<string, AllowedTable>> = {
  // Row level security decides which rows; these are the statements each role may run at all.
  "public.profiles": {
    privileges: { authenticated: ["select", "update"], service_role: everything },
    migration: "001_base_schema.sql",
  },
  "public.assessments": {
    privileges: { authenticated: ["select", "insert", "update"], service_role: everything },
    migration: "001_base_schema.sql",
  },
  "public.appointments": {
    privileges: { authenticated: ["select", "insert", "update"], service_role: everything },
    migration: "001_base_schema.sql",
  },
  "public.payments": {
    privileges: { authenticated: ["select"], service_role: everything },
    migration: "001_base_schema.sql",
  },
  "public.reports": {
    privileges: { authenticated: ["select"], service_role: everything },
    migration: "040_reports.sql",
  },
};
