// @balansity/console: the operations CLI (doctor) now; the ops web console later.

export { cronJobsCheck, requiredCronJobs } from "./checks/cron-jobs.ts";
export {
  type ExpectedFunction,
  expectedFunctions,
  type FunctionAccess,
} from "./checks/expected-functions.ts";
export { extensionsCheck, pgmqFunctionSignatures } from "./checks/extensions.ts";
export { createFunctionGrantsCheck, functionGrantsCheck } from "./checks/function-grants.ts";
export { createFunctionsCheck, functionsCheck } from "./checks/functions.ts";
export { doctorChecks } from "./checks/index.ts";
export { createMigrationsCheck, migrationsCheck } from "./checks/migrations.ts";
export { pgmqSchemaAccessCheck } from "./checks/pgmq-schema-access.ts";
export { createQueueHealthCheck, type QueueHealthOptions, queueHealthCheck } from "./checks/queue-health.ts";
export { createQueueNotifyTriggersCheck, queueNotifyTriggersCheck } from "./checks/queue-notify-triggers.ts";
export { createQueuesCheck, queuesCheck } from "./checks/queues.ts";
export { rowLevelSecurityCheck } from "./checks/row-level-security.ts";
export { createSchemaStateCheck, schemaStateCheck } from "./checks/schema-state.ts";
export { securityDefinerSearchPathCheck } from "./checks/security-definer-search-path.ts";
export { type WebhookTrigger, webhookTriggers, webhookTriggersCheck } from "./checks/webhook-triggers.ts";
export type { Check, CheckReport, CheckResult, CheckStatus, Finding, Queryable } from "./doctor/check.ts";
export { type DoctorCommandOptions, runDoctorCommand } from "./doctor/doctor-command.ts";
export { exitCodes } from "./doctor/exit-codes.ts";
export { formatResult, formatSummary, summarize } from "./doctor/format-results.ts";
export { runChecks } from "./doctor/run-checks.ts";
