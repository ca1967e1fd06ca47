import type { Check } from "../doctor/check.ts";
import { apiGrantsCheck } from "./api-grants.ts";
import { cronJobsCheck } from "./cron-jobs.ts";
import { extensionsCheck } from "./extensions.ts";
import { functionGrantsCheck } from "./function-grants.ts";
import { functionsCheck } from "./functions.ts";
import { migrationsCheck } from "./migrations.ts";
import { pgmqSchemaAccessCheck } from "./pgmq-schema-access.ts";
import { queueHealthCheck } from "./queue-health.ts";
import { queueNotifyTriggersCheck } from "./queue-notify-triggers.ts";
import { queuesCheck } from "./queues.ts";
import { rowLevelSecurityCheck } from "./row-level-security.ts";
import { schemaStateCheck } from "./schema-state.ts";
import { securityDefinerSearchPathCheck } from "./security-definer-search-path.ts";
import { webhookTriggersCheck } from "./webhook-triggers.ts";

/**
 * What `pnpm doctor` checks, in order: from "is it installed" to "is it healthy": what the migrations
 * set up, plus the security rules of docs/architecture.md.
 */
export const doctorChecks: readonly Check[] = [
  extensionsCheck,
  migrationsCheck,
  cronJobsCheck,
  queuesCheck,
  queueNotifyTriggersCheck,
  webhookTriggersCheck,
  functionsCheck,
  schemaStateCheck,
  functionGrantsCheck,
  apiGrantsCheck,
  pgmqSchemaAccessCheck,
  securityDefinerSearchPathCheck,
  rowLevelSecurityCheck,
  queueHealthCheck,
];
