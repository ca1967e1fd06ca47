import { fileURLToPath } from "node:url";

/** The repository root, found from this file's location (packages/devstack/src). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** SQL files this package installs: Supabase platform objects and the pgmq-compatible API. */
export const platformSqlFile = fileURLToPath(new URL("../sql/supabase-platform.sql", import.meta.url));
export const pgmqCompatSqlFile = fileURLToPath(new URL("../sql/pgmq-compat.sql", import.meta.url));
/** Opt-in, for tests only: a stand-in for pg_net's net.http_post (see src/pg-net-stand-in.ts). */
export const pgNetStandInSqlFile = fileURLToPath(new URL("../sql/pg-net-stand-in.sql", import.meta.url));

export const seedFile = fileURLToPath(new URL("../../../supabase/seed.sql", import.meta.url));
