import { execFileSync } from "node:child_process";
import { chownSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The OS identity the server runs as: PostgreSQL refuses to run as root. */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

const SERVER_USER = "postgres";

/**
 * As root, returns the `postgres` OS user (created as a system user when missing);
 * otherwise undefined: the server then runs as the current user.
 */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let id = lookup();
  if (!id) {
    execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER], {
      stdio: "ignore",
    });
    id = lookup();
  }
  if (!id) throw new Error(`could not find or create the OS user "${SERVER_USER}" to run PostgreSQL as`);
  return id;
}

function lookup(): ServerUser | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", SERVER_USER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", SERVER_USER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Gives a folder tree to the server user. */
export function chownTree(path: string, user: ServerUser): void {
  chownSync(path, user.uid, user.gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}

/** Whether the server user may enter a folder (every folder above it included), as the kernel decides. */
export function canServerUserEnter(folder: string, user: ServerUser): boolean {
  try {
    execFileSync("test", ["-x", folder], { uid: user.uid, gid: user.gid, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
