import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomJwtSecret } from "./postgrest-rpc.ts";

/**
 * The HS256 secret of one local cluster, made on its first start and kept in `<dir>/jwt-secret`
 * (mode 0600, inside the git-ignored `.devstack/`): sign-in links stay valid across restarts, and
 * deleting the folder (a new cluster) also makes a new secret.
 */
export function readOrCreateJwtSecret(dir: string): string {
  return readOrCreateSecret(dir, "jwt-secret");
}

/** A random secret of one local cluster kept in `<dir>/<name>` (0600), e.g. the report links' one. */
export function readOrCreateSecret(dir: string, name: string): string {
  const file = join(dir, name);
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (secret.length >= 32) return secret;
  }
  const secret = randomJwtSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
