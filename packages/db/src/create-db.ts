import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import type { DB as Database } from "./database.generated.ts";

/**
 * Wraps a pool in a typed kysely instance. The pool stays the caller's: `db.destroy()` ends it.
 *
 * ### Examples
 * ```ts
 * import { createDb, createPool, loadDatabaseConfig } from "@balansity/db";
 *
 * const db = createDb(createPool(loadDatabaseConfig(process.env)));
 * const rows = await db.selectFrom("appointments").select(["id", "status"]).limit(10).execute();
 * await db.destroy();
 * ```
 */
export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
