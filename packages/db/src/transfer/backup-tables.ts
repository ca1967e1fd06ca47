/**
 * The backup of the target's tables, written before anything is copied into them:
 *
 * - `pg_dump` (custom format, data only, just these tables) when a `pg_dump` binary is found that
 *   can read the target (the newest of `/usr/lib/postgresql/NN/bin`, else the one on PATH); restore
 *   with `pg_restore --data-only --dbname <url> <file>`;
 * - otherwise, or when pg_dump fails (older than the server, a transaction pooler in the way), a
 *   gzip-compressed JSON-lines export: a header line, then `{"table": "schema.name", "row": {...}}`
 *   per row, read in one repeatable-read snapshot.
 */
import { execFile } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import type pg from "pg";
import type { DatabaseConfig } from "../database-config.ts";
import { displayName, qualified, type TableName } from "./table-catalog.ts";
import { TransferError } from "./transfer-errors.ts";

const run = promisify(execFile);

export type BackupMethod = "auto" | "pg_dump" | "json";

export interface BackupResult {
  readonly method: "pg_dump" | "json";
  readonly file: string;
}

export interface BackupOptions {
  readonly method: BackupMethod;
  /** Folder for the backup file (created when missing). */
  readonly directory: string;
  /** Used in the file name: `target-<stamp>.dump` / `.jsonl.gz`. */
  readonly stamp: string;
  readonly warn: (message: string) => void;
}

export async function backupTables(
  client: pg.ClientBase,
  config: DatabaseConfig,
  tables: readonly TableName[],
  options: BackupOptions,
): Promise<BackupResult> {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  if (options.method !== "json") {
    const pgDump = findPgDump();
    if (pgDump === undefined) {
      if (options.method === "pg_dump") {
        throw new TransferError("transfer_backup_failed", [
          "--backup pg_dump: no pg_dump found (looked in /usr/lib/postgresql/*/bin and PATH)",
        ]);
      }
      options.warn("pg_dump not found: the backup is a compressed JSON export");
    } else {
      const file = join(options.directory, `target-${options.stamp}.dump`);
      try {
        await dumpWithPgDump(pgDump, config, tables, file);
        return { method: "pg_dump", file };
      } catch (error) {
        rmSync(file, { force: true });
        const reason =
          error instanceof Error ? error.message.trim().split("\n").slice(-3).join(" ") : String(error);
        if (options.method === "pg_dump")
          throw new TransferError("transfer_backup_failed", [`pg_dump failed: ${reason}`]);
        options.warn(`pg_dump failed (${reason}): the backup is a compressed JSON export instead`);
      }
    }
  }
  const file = join(options.directory, `target-${options.stamp}.jsonl.gz`);
  await exportJson(client, tables, file);
  return { method: "json", file };
}

function findPgDump(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const candidate = join(root, version, "bin", "pg_dump");
      if (existsSync(candidate)) return candidate;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "pg_dump"))) return join(dir, "pg_dump");
  }
  return undefined;
}

/** libpq's names for our TLS settings; the CA text goes to a private temporary file when it was given inline. */
function libpqEnv(config: DatabaseConfig, scratch: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    PGHOST: config.host,
    PGPORT: String(config.port),
    PGUSER: config.user,
    PGDATABASE: config.database,
    PGAPPNAME: `${config.applicationName}-backup`,
    PGCONNECT_TIMEOUT: String(Math.max(1, Math.ceil(config.connectTimeoutMs / 1000))),
  };
  if (config.password !== undefined) env.PGPASSWORD = config.password;
  const { mode, rootCert, rootCertPath } = config.ssl;
  if (mode === "disable") env.PGSSLMODE = "disable";
  else if (mode === "no-verify") env.PGSSLMODE = "require";
  else {
    env.PGSSLMODE = mode === "verify-full" ? "verify-full" : "verify-ca";
    if (rootCert === undefined) env.PGSSLROOTCERT = "system";
    else if (rootCertPath !== undefined) env.PGSSLROOTCERT = rootCertPath;
    else {
      const path = join(scratch, "ca.crt");
      writeFileSync(path, rootCert, { mode: 0o600 });
      env.PGSSLROOTCERT = path;
    }
  }
  return env;
}

async function dumpWithPgDump(
  pgDump: string,
  config: DatabaseConfig,
  tables: readonly TableName[],
  file: string,
): Promise<void> {
  const scratch = `${file}.tmp`;
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  try {
    await run(
      pgDump,
      [
        "--data-only",
        "--format=custom",
        `--file=${file}`,
        ...tables.map((table) => `--table=${qualified(table)}`),
      ],
      { env: libpqEnv(config, scratch), maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(error.stderr?.trim() || error.message);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function exportJson(client: pg.ClientBase, tables: readonly TableName[], file: string): Promise<void> {
  await client.query("begin isolation level repeatable read read only");
  try {
    async function* lines(): AsyncGenerator<string> {
      yield `${JSON.stringify({ format: "balansity-transfer-backup", version: 1, tables: tables.map(displayName) })}\n`;
      for (const table of tables) {
        const name = JSON.stringify(displayName(table));
        await client.query(
          `declare backup_rows no scroll cursor for select to_jsonb(t)::text as row from ${qualified(table)} t`,
        );
        for (;;) {
          const { rows } = await client.query<{ row: string }>("fetch forward 1000 from backup_rows");
          if (rows.length === 0) break;
          yield rows.map((row) => `{"table":${name},"row":${row.row}}\n`).join("");
        }
        await client.query("close backup_rows");
      }
    }
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(file, { mode: 0o600 }));
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    rmSync(file, { force: true });
    throw new TransferError("transfer_backup_failed", [
      `the JSON backup of the target could not be written to ${file}: ${error instanceof Error ? error.message : String(error)}`,
    ]);
  }
}
