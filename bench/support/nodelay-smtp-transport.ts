// PROTOTYPE: apps/worker/src/email/smtp-transport.ts's transport, with every pooled SMTP connection opened
// with TCP_NODELAY, through nodemailer's `getSocket` hook (the one it offers for proxies). Without it
// Nagle's algorithm holds back the end of each DATA until the server's delayed ACK (40 ms on Linux):
// about 45 ms per email per connection (support/smtp-round-trip.ts). nodemailer still does TLS on the
// socket it is given (port 465 right away, STARTTLS on 587). Loaded into the worker only by
// email-pipeline.ts --smtp nodelay; the worker's source stays untouched.
import { connect, type Socket } from "node:net";
import type { SmtpConfig } from "../../apps/worker/src/config/worker-config.ts";
import { createSmtpTransport as createWorkerSmtpTransport } from "../../apps/worker/src/email/smtp-transport.ts";

type SocketCallback = (error: Error | null, socket?: { connection: Socket }) => void;

/** The worker's transport, plus (CHANGED) our own TCP connection with TCP_NODELAY and the same 10 s to connect. */
export function createSmtpTransport(config: SmtpConfig) {
  const transport = createWorkerSmtpTransport(config);
  Object.assign(transport, {
    getSocket(options: { host: string; port: number }, callback: SocketCallback) {
      const socket = connect({ host: options.host, port: options.port, noDelay: true, timeout: 10_000 });
      const fail = (error: Error) => {
        socket.destroy();
        callback(error);
      };
      socket.once("timeout", () =>
        fail(Object.assign(new Error("Connection timeout"), { code: "ETIMEDOUT" })),
      );
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.removeListener("error", fail);
        socket.setTimeout(0);
        callback(null, { connection: socket });
      });
    },
  });
  return transport;
}

export type SmtpTransport = ReturnType<typeof createSmtpTransport>;
