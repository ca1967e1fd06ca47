import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SchemaQueryable } from "./introspect-schema.ts";
import { introspectSchema } from "./introspect-schema.ts";
import { renderSchemaSql } from "./render-schema-sql.ts";
import { type SchemaState, schemaStateSchema } from "./schema-state.ts";

/** Absolute path of `supabase/schema.sql`, the migrated database described as SQL (for people). */
export const schemaSqlPath: string = fileURLToPath(
  new URL("../../../../supabase/schema.sql", import.meta.url),
);

/** Absolute path of `supabase/schema.json`, the same state as data (for the doctor and db:adopt). */
export const schemaJsonPath: string = fileURLToPath(
  new URL("../../../../supabase/schema.json", import.meta.url),
);

/** The two committed files as generated from a migrated database: what `pnpm db:schema` writes. */
export interface SchemaFiles {
  readonly sql: string;
  readonly json: string;
}

/**
 * Introspects a database migrated with every migration and returns what `supabase/schema.sql` and
 * `supabase/schema.json` must contain. The cron jobs pg_cron holds (`scheduledCronJobs`) are left
 * out: they depend on where pg_cron is installed, not on the migrations.
 *
 * ### Examples
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { generateSchemaFiles, schemaJsonPath, schemaSqlPath } from "@balansity/db";
 *
 * const files = await generateSchemaFiles(client);
 * await writeFile(schemaSqlPath, files.sql);
 * await writeFile(schemaJsonPath, files.json);
 * ```
 */
export async function generateSchemaFiles(db: SchemaQueryable): Promise<SchemaFiles> {
  const state: SchemaState = { ...(await introspectSchema(db)), scheduledCronJobs: null };
  return { sql: renderSchemaSql(state), json: `${JSON.stringify(state, null, 2)}\n` };
}

/**
 * The state every migration makes, read from `supabase/schema.json` (or `path`) and validated.
 * Throws when the file is missing or not a schema state (regenerate it with `pnpm db:schema`).
 */
export function loadExpectedSchema(path: string = schemaJsonPath): SchemaState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path} (${(error as Error).message}): run pnpm db:schema`);
  }
  const parsed = schemaStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${path} is not a schema state (${parsed.error.message}): run pnpm db:schema`);
  }
  return parsed.data;
}
