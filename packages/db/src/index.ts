export { AdoptionBlockedError, type AdoptionBlocker } from "./adopt/adopt-errors.ts";
export { formatPlan } from "./adopt/format-plan.ts";
export type { AdoptionPlan, AdoptionStep, CronPlan } from "./adopt/plan-adoption.ts";
export {
  type AdoptOptions,
  type AdoptResult,
  adoptDatabase,
  planDatabaseAdoption,
} from "./adopt/run-adoption.ts";
export { type AdvisorFinding, type AdvisorLevel, runAdvisorLints } from "./advisor-lints.ts";
export {
  type AllowedFunction,
  type AllowedTable,
  type ApiRole,
  allowedFunctions,
  allowedTables,
  apiRoles,
  exposedSchemas,
  type TablePrivilege,
  tablePrivileges,
} from "./api-allow-list.ts";
export { type ApiGrantsWalk, type GrantProblem, type GrantsQueryable, walkApiGrants } from "./api-grants.ts";
export { ConfigError } from "./config-error.ts";
export { ConnectionError, type ConnectionErrorCode, explainConnectionError } from "./connection-error.ts";
export { createDb } from "./create-db.ts";
export { createPool } from "./create-pool.ts";
export type { DB as Database } from "./database.generated.ts";
export type {
  DatabaseConfig,
  DatabasePoolerConfig,
  DatabaseProfile,
  DatabaseProfileConfig,
  DatabaseSslConfig,
  PoolMode,
  SslMode,
} from "./database-config.ts";
export { describeDatabaseConfig } from "./describe-database-config.ts";
export { databaseTypeSchemas, databaseTypesPath, generateDatabaseTypes } from "./generate-database-types.ts";
export {
  type DatabaseEnv,
  type LoadDatabaseConfigOptions,
  loadDatabaseConfig,
} from "./load-database-config.ts";
export { MigrationChangedError, MigrationError, MigrationFileError } from "./migrations/migration-errors.ts";
export { isSupersededText } from "./migrations/migration-history.ts";
export type { MigrationLog } from "./migrations/migration-log.ts";
export { migrationsDirectory } from "./migrations/migrations-directory.ts";
export {
  type MigrationPlan,
  type MigrationTarget,
  type PendingMigration,
  planMigrations,
  type RunMigrationsOptions,
  type RunMigrationsResult,
  runMigrations,
} from "./migrations/run-migrations.ts";
export { toPoolConfig } from "./pool-config.ts";
export { redactConnectionString } from "./redact-connection-string.ts";
export {
  compareSchema,
  type ForeignObject,
  type ForeignObjectKind,
  type SchemaComparison,
  type SchemaDifference,
  type SchemaDifferenceKind,
} from "./schema-state/compare-schema.ts";
export { introspectSchema, ownedSchemas, type SchemaQueryable } from "./schema-state/introspect-schema.ts";
export { renderSchemaSql } from "./schema-state/render-schema-sql.ts";
export {
  generateSchemaFiles,
  loadExpectedSchema,
  type SchemaFiles,
  schemaJsonPath,
  schemaSqlPath,
} from "./schema-state/schema-files.ts";
export type {
  ColumnState,
  ConstraintState,
  CronJobState,
  FunctionState,
  GrantState,
  NamedDefinition,
  SchemaState,
  TableState,
  TriggerState,
} from "./schema-state/schema-state.ts";
export type { BackupMethod, BackupResult } from "./transfer/backup-tables.ts";
export type { CopyTableResult } from "./transfer/copy-table.ts";
export {
  runTransfer,
  type TableTransferReport,
  type TransferOptions,
  type TransferReport,
} from "./transfer/run-transfer.ts";
export { TransferError, type TransferErrorCode } from "./transfer/transfer-errors.ts";
export type { OrphanRows, TableDigest, TableVerification } from "./transfer/verify-tables.ts";
