/** What a running devstack offers; serialisable so vitest can hand it to test files. */
export interface DevstackInfo {
  /** Which PostgreSQL binaries run the cluster. */
  readonly flavor: "system" | "embedded" | "pg_bin";
  /** Server major version, e.g. 15 or 17. */
  readonly majorVersion: number;
  readonly host: string;
  readonly port: number;
  /** Superuser connection string to the `postgres` database. */
  readonly adminUrl: string;
  /** True when pg_cron is preloaded and created in `cronDatabase`. */
  readonly pgCron: boolean;
  /** The one database pg_cron lives in (`cron.database_name`). */
  readonly cronDatabase: string;
  /** True when pgmq is the real extension; false when the pgmq-compatible SQL is installed. */
  readonly pgmqExtension: boolean;
  /** Template database names by kind. */
  readonly templates: { readonly migrated: string; readonly platform: string; readonly bare: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    devstack: DevstackInfo;
  }
}
