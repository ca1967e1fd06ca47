// The public surface of @balansity/devstack (test helpers: "./testing"; vitest: "./vitest-global-setup").

export { runAccessTokenHook } from "./access-token-hook.ts";
export { type Devstack, type DevstackOptions, devstackEnv, startDevstack } from "./devstack.ts";
export type { DevstackInfo } from "./devstack-info.ts";
export { applyMigrations, applySeed, installPgCron, installPlatform } from "./prepare-database.ts";
export {
  type FailureMode,
  failureModeSchema,
  parseSinkLimit,
  type ReceivedMessage,
  type SinkLimit,
  type SmtpSink,
  SmtpSinkError,
  startSmtpSink,
} from "./smtp-sink.ts";
export { type SmtpSinkProcess, spawnSmtpSinkProcess } from "./smtp-sink-process.ts";
export { CRON_DATABASE, describePostgres, parsePostgresChoice, startPostgres } from "./start-postgres.ts";
export { startThrowawayPostgres, type ThrowawayPostgres } from "./start-throwaway-postgres.ts";
export { withClient } from "./with-client.ts";
