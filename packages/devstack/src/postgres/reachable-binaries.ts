import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { PostgresBinaries } from "./find-binaries.ts";
import { canServerUserEnter, type ServerUser } from "./os-user.ts";
import { DataDirError, RELOCATED_ROOT } from "./reachable-data-dir.ts";

/**
 * Moves a finished copy into place. Test runs start several of these at once: whoever renames first
 * wins, and a complete copy already there is used as it is (another process may be running from it),
 * never removed; only a leftover without its marker is replaced.
 */
function publishCopy(partial: string, copy: string): void {
  try {
    renameSync(partial, copy);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
  if (existsSync(join(copy, ".complete"))) {
    rmSync(partial, { recursive: true, force: true });
    return;
  }
  rmSync(copy, { recursive: true, force: true });
  renameSync(partial, copy);
}

/**
 * Binaries the server user can run. The embedded PostgreSQL lives in the checkout's node_modules;
 * as root in a checkout the `postgres` OS user cannot enter, its installation folder (bin, lib,
 * share) is copied once to `/var/tmp/balansity-devstack-pg-<hash of its path>` (root's, mode 755)
 * and run from there. System binaries are always reachable and are returned as they are.
 */
export function reachableBinaries(
  binaries: PostgresBinaries,
  user: ServerUser | undefined,
): PostgresBinaries {
  if (!user || canServerUserEnter(binaries.binDir, user)) return binaries;
  if (basename(binaries.binDir) !== "bin") {
    throw new DataDirError(
      `the postgres OS user cannot reach ${binaries.binDir}: let it enter the folders above`,
    );
  }
  const installation = dirname(binaries.binDir);
  const hash = createHash("sha256").update(installation).digest("hex").slice(0, 16);
  const copy = join(RELOCATED_ROOT, `balansity-devstack-pg-${hash}`);
  // The marker is written last, so a copy cut short is made again rather than used.
  const complete = join(copy, ".complete");
  if (!existsSync(complete)) {
    const partial = `${copy}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { mode: 0o755 });
    cpSync(installation, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    writeFileSync(join(partial, ".complete"), `${installation}\n`);
    publishCopy(partial, copy);
  }
  // /var/tmp is shared: run only binaries nobody but root could have written
  const { uid, mode } = statSync(copy);
  if (uid !== 0 || (mode & 0o022) !== 0) {
    throw new DataDirError(`${copy} is not root's with mode 755 (uid ${uid}): remove it and start again`);
  }
  return { ...binaries, binDir: join(copy, "bin") };
}
