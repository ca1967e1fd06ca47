import { type MigrationSource, migrationSources } from "./migration-sources.ts";

/**
 * Who may execute a function through the API roles:
 * - `service_role`: service_role only (servers, the worker, the schedulers); never anon or authenticated.
 * - `authenticated`: signed-in users (the function checks auth.uid() itself); never anon.
 * - `operator`: the operator role (an operator's JWT, migration 046) and service_role; never anon or
 *   authenticated (the function checks is_operator() itself as well).
 * - `none`: trigger functions, which need no execute grant to fire; never anon or authenticated.
 */
export type FunctionAccess = "service_role" | "authenticated" | "operator" | "none";

export interface ExpectedFunction {
  /** Name in schema public (every overload is checked). */
  readonly name: string;
  readonly migration: MigrationSource;
  readonly access: FunctionAccess;
  /**
   * Why a security definer function stays executable by authenticated (Supabase's advisor warns
   * about each one: lint authenticated_security_definer_function_executable); the doctor prints it.
   */
  readonly definerBecause?: string;
}

/** The functions of schema public the integrations rely on (docs/queue-contract.md). */
export const expectedFunctions: readonly ExpectedFunction[] = [
  { name: "handle_completed_checkup", migration: migrationSources.triggers, access: "none" },
  { name: "handle_new_appointment", migration: migrationSources.triggers, access: "none" },
  { name: "handle_payment_status_change", migration: migrationSources.triggers, access: "none" },
  { name: "update_appointment_statuses", migration: migrationSources.cronJobs, access: "service_role" },
  { name: "send_appointment_reminders", migration: migrationSources.cronJobs, access: "service_role" },
  // Not in the guide's list, but the cleanup-old-assessments job it verifies calls it.
  { name: "cleanup_old_assessments", migration: migrationSources.cronJobs, access: "service_role" },
  { name: "queue_email_task", migration: migrationSources.queues, access: "service_role" },
  { name: "queue_report_generation", migration: migrationSources.queues, access: "service_role" },
  { name: "queue_payment_processing", migration: migrationSources.queues, access: "service_role" },
  { name: "track_event", migration: migrationSources.queues, access: "service_role" },
  { name: "pgmq_send", migration: migrationSources.rpcWrappers, access: "service_role" },
  { name: "pgmq_read", migration: migrationSources.rpcWrappers, access: "service_role" },
  { name: "pgmq_archive", migration: migrationSources.rpcWrappers, access: "service_role" },
  { name: "pgmq_delete", migration: migrationSources.rpcWrappers, access: "service_role" },
  { name: "pgmq_metrics", migration: migrationSources.rpcWrappers, access: "service_role" },
  { name: "pgmq_dead_letter", migration: migrationSources.rpcWrappers, access: "service_role" },
  // Made in 033; 040 replaced it with the version that makes a report and keeps to the request limit.
  {
    name: "request_assessment_report",
    migration: migrationSources.reports,
    access: "authenticated",
    definerBecause:
      "it reads the report queue, writes the per-user request log and calls a service_role-only producer, which users must not be granted; it checks auth.uid() against the checkup's owner itself",
  },
  // The worker's consumers: the wake-up protocol and the archive that rides on the next read.
  { name: "pgmq_consumer_busy", migration: migrationSources.consumerWakeups, access: "service_role" },
  { name: "pgmq_consumer_waiting", migration: migrationSources.consumerWakeups, access: "service_role" },
  { name: "pgmq_consumer_leave", migration: migrationSources.consumerWakeups, access: "service_role" },
  {
    name: "pgmq_archive_and_read",
    migration: migrationSources.consumerArchiveAndRead,
    access: "service_role",
  },
  // Asked by the console after sign-in, by any signed-in user.
  { name: "is_operator", migration: migrationSources.operatorConsole, access: "authenticated" },
  // The operator console and the balansity CLI: the operator role (046) and service_role may call
  // them, and each refuses anyone whose JWT is not an operator's (42501) by itself.
  ...[
    "console_queue_overview",
    "console_queue_history",
    "console_peek_messages",
    "console_dead_letters",
    "console_dead_letter_ids",
    "console_retry_dead_letters",
    "console_discard_dead_letters",
    "console_cron_jobs",
    "console_cron_runs",
    "console_email_deliveries",
    "console_queue_test_email",
    "console_reports",
    "console_regenerate_report",
  ].map((name) => ({ name, migration: migrationSources.operatorConsole, access: "operator" as const })),
];
