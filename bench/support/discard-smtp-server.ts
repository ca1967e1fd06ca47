// A minimal SMTP server (smtp-server) that accepts every message and throws it away: no parsing, no
// storage. Stands in for a real relay when the devstack sink's parsing (mailparser) would be the
// bottleneck of a benchmark.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface DiscardSmtpServer {
  readonly port: number;
  /** Messages accepted so far (end of DATA answered 250). */
  accepted(): number;
  stop(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 at a free port; no TLS, no authentication required.
 *
 * ### Examples
 * ```ts
 * const smtp = await startDiscardSmtpServer();
 * // SMTP_HOST=127.0.0.1 SMTP_PORT=${smtp.port} SMTP_SECURE=none
 * await smtp.stop();
 * ```
 */
export async function startDiscardSmtpServer(): Promise<DiscardSmtpServer> {
  let accepted = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    disableReverseLookup: true,
    onData(stream, _session, callback) {
      stream.on("end", () => {
        accepted += 1;
        callback(null, `Accepted ${accepted}`);
      });
      stream.resume();
    },
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    accepted: () => accepted,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
