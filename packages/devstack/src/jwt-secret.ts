import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomJwtSecret } from "./postgrest-rpc.ts";

/**
 * The HS256 secret of one local cluster, made on its first start and kept in `<dir>/jwt-secret`
 * (mode 0600, inside the git-ignored `.devstack/`): sign-in links stay valid across restarts, and
 * deleting the folder (a new cluster) also makes a new secret.
 */
export function readOrCreateJwtSecret(dir: string): string {
  const file = join(dir, "jwt-secret");
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (secret.length >= 32) return secret;
  }
  const secret = randomJwtSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
