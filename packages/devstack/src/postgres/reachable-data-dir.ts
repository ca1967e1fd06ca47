import { createHash } from "node:crypto";
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { canServerUserEnter, type ServerUser } from "./os-user.ts";

/** Where a relocated cluster lives: a folder per checkout, outside any home or temporary folder. */
export const RELOCATED_ROOT = "/var/tmp";

/** Raised when the folder a relocated cluster would use is not ours to use. */
export class DataDirError extends Error {
  readonly code = "data_dir_unsafe";
  constructor(message: string) {
    super(message);
    this.name = "DataDirError";
  }
}

/**
 * The folder PostgreSQL keeps its cluster in. Normally `preferred` itself. When the server runs as the
 * `postgres` OS user (we are root) and that user cannot reach `preferred` (a checkout under /root or
 * `mktemp -d`, mode 700), the cluster lives in `/var/tmp/balansity-devstack-<hash of preferred>/postgres`
 * instead (owned by postgres, mode 700), and `preferred` becomes a symlink to it. The symlink is the
 * marker that the cluster belongs to this checkout: deleting `.devstack/` (and with it the symlink)
 * starts over with a new cluster, as it does when the data sits in the checkout.
 */
export function reachableDataDir(preferred: string, user: ServerUser | undefined): string {
  const wanted = resolve(preferred);
  mkdirSync(dirname(wanted), { recursive: true });
  if (!user || canServerUserEnter(dirname(wanted), user)) return wanted;

  const home = join(
    RELOCATED_ROOT,
    `balansity-devstack-${createHash("sha256").update(wanted).digest("hex").slice(0, 16)}`,
  );
  const dataDir = join(home, "postgres");
  const linked = isSymlink(wanted) && readlinkSync(wanted) === dataDir;
  if (!linked) {
    // A new cluster for this checkout: whatever an earlier, deleted `.devstack/` left there goes.
    rmSync(home, { recursive: true, force: true });
    if (isSymlink(wanted)) rmSync(wanted);
    else if (existsSync(wanted)) {
      if (readdirSync(wanted).length > 0) {
        throw new DataDirError(
          `${wanted} holds a cluster the postgres OS user cannot reach: let it enter the folders above (chmod o+x) or move the folder away`,
        );
      }
      rmSync(wanted, { recursive: true });
    }
  }
  if (!existsSync(home)) {
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, user.uid, user.gid);
  }
  // /var/tmp is shared: use the folder only when it is the server user's own and closed to others
  const { uid, mode } = statSync(home);
  if (uid !== user.uid || (mode & 0o077) !== 0) {
    throw new DataDirError(
      `${home} is not owned by the postgres user with mode 700 (uid ${uid}, mode ${(mode & 0o777).toString(8)}): remove it and start again`,
    );
  }
  if (!linked) symlinkSync(dataDir, wanted);
  return dataDir;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
