/**
 * A PostgreSQL cluster serving TLS with a certificate from a CA made at test time (openssl), plus a
 * second, unrelated CA to play the wrong one. No key or certificate is ever committed: everything
 * lives in a temporary folder removed by `stop()`.
 *
 * The server certificate names only `localhost` (DNS), so connecting to `127.0.0.1` is a host-name
 * mismatch with a trusted chain.
 */
import { execFile } from "node:child_process";
import { chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serverUser } from "../../../devstack/src/postgres/os-user.ts";
import {
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from "../../../devstack/src/start-throwaway-postgres.ts";
import { withClient } from "../../../devstack/src/with-client.ts";

const run = promisify(execFile);

export interface TlsPostgres {
  readonly port: number;
  /** Path of the CA that signed the server's certificate. */
  readonly caPath: string;
  /** Path of a CA that did not. */
  readonly wrongCaPath: string;
  stop(): Promise<void>;
}

/** Why TLS cannot be tested here, or undefined when it can (openssl present). */
export async function tlsUnavailable(): Promise<string | undefined> {
  try {
    await run("openssl", ["version"]);
    return undefined;
  } catch {
    return "the openssl command is not installed (apt-get install openssl): it makes the throwaway CA";
  }
}

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  await run("openssl", [...args], { cwd });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-nodes",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=balansity throwaway ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/**
 * Starts the cluster with `ssl = on`; `{ unsupported }` only when the PostgreSQL build has no TLS
 * support (CI's allow-list names no such skip, so there too it fails). Throws when TLS does not come up.
 */
export async function startTlsPostgres(): Promise<TlsPostgres | { unsupported: string }> {
  const dir = mkdtempSync(join(tmpdir(), "balansity-tls-"));
  await makeCa(dir, "ca");
  await makeCa(dir, "wrong-ca");
  await openssl(dir, [
    "req",
    "-new",
    "-nodes",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ]);

  let postgres: ThrowawayPostgres;
  try {
    postgres = await startThrowawayPostgres({ prefix: "balansity-tls-pg-" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { adminUrl } = postgres.cluster;
    const dataDir = await withClient(adminUrl, async (client) => {
      const { rows } = await client.query<{ data_directory: string }>("show data_directory");
      return rows[0]?.data_directory ?? "";
    });
    // The server reads its key and certificate as its own OS user; the key must be private to it.
    const user = serverUser();
    for (const file of ["server.crt", "server.key"]) {
      const target = join(dataDir, file);
      copyFileSync(join(dir, file), target);
      if (user) chownSync(target, user.uid, user.gid);
    }
    const library = await withClient(adminUrl, async (client) => {
      const { rows } = await client.query<{ ssl_library: string }>("show ssl_library");
      return rows[0]?.ssl_library ?? "";
    });
    if (library === "") {
      await stop();
      return { unsupported: "this PostgreSQL build has no TLS support (ssl_library is empty)" };
    }
    await withClient(adminUrl, async (client) => {
      await client.query("alter system set ssl_cert_file = 'server.crt'");
      await client.query("alter system set ssl_key_file = 'server.key'");
      await client.query("alter system set ssl = on");
      await client.query("select pg_reload_conf()");
    });
    // The reload is asynchronous: wait until a new session sees TLS on.
    let ssl: string | undefined;
    const deadline = Date.now() + 15_000;
    while (ssl !== "on" && Date.now() < deadline) {
      ssl = await withClient(adminUrl, async (client) => {
        const { rows } = await client.query<{ ssl: string }>("show ssl");
        return rows[0]?.ssl;
      });
      if (ssl !== "on") await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A server that should serve TLS and does not is a failure, not a reason to skip the TLS tests.
    if (ssl !== "on")
      throw new Error(`the server did not turn TLS on within 15 s (ssl = ${ssl}): see its log`);
    return {
      port: postgres.cluster.port,
      caPath: join(dir, "ca.crt"),
      wrongCaPath: join(dir, "wrong-ca.crt"),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
