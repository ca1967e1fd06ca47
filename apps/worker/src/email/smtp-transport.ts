import { connect, type Socket } from "node:net";
import nodemailer, { type SendMailOptions } from "nodemailer";
import type { SmtpConfig } from "../config/worker-config.ts";
import type { MailTransport, OutgoingEmail } from "./mail-transport.ts";

const CONNECT_TIMEOUT_MS = 10_000;

type SocketCallback = (error: Error | null, socket?: { connection: Socket } | false) => void;

/**
 * A pooled nodemailer transport: connections are reused across messages (the provider's limit is
 * `maxConnections`). 465 speaks TLS from the first byte; 587 must upgrade with STARTTLS (refused
 * otherwise, so credentials never cross the wire in clear); `none` is for local sinks only.
 *
 * Connections are opened with TCP_NODELAY: nodemailer writes the end of DATA as a small separate
 * segment, which Nagle's algorithm holds until the server's delayed ACK (~40 ms on Linux), capping
 * each connection at ~22 emails/s (bench/RESULTS.md, email-pipeline). nodemailer still does TLS on the
 * socket it is given.
 */
export function createSmtpTransport(config: SmtpConfig) {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: config.maxConnections,
    maxMessages: 1000,
    host: config.host,
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    ...(config.user && config.password ? { auth: { user: config.user, pass: config.password } } : {}),
    // Signs every message (SMTP_DKIM_*); the key stays in this object, never in a log line.
    ...(config.dkim ? { dkim: { ...config.dkim } } : {}),
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  // nodemailer's hook for bringing its own socket (meant for proxies).
  Object.assign(transport, { getSocket: openNoDelaySocket });
  return transport;
}

function openNoDelaySocket(options: { host: string; port: number }, callback: SocketCallback): void {
  const socket = connect({
    host: options.host,
    port: options.port,
    noDelay: true,
    timeout: CONNECT_TIMEOUT_MS,
  });
  // When our connection fails, hand over to nodemailer's own connect (`false`): its failure path rejects
  // every message queued on the pool, while an error given to this callback would leave them waiting.
  const giveUp = () => {
    socket.destroy();
    callback(null, false);
  };
  socket.once("timeout", giveUp);
  socket.once("error", giveUp);
  socket.once("connect", () => {
    socket.removeListener("error", giveUp);
    socket.removeListener("timeout", giveUp);
    socket.setTimeout(0);
    callback(null, { connection: socket });
  });
}

/** The pooled transport on the calling thread (SMTP_THREAD=off; the SMTP thread's own body). */
export function inProcessTransport(config: SmtpConfig): MailTransport {
  const transport = createSmtpTransport(config);
  return {
    sendMail: async (email) => {
      const info = await transport.sendMail(nodemailerMail(email));
      return { messageId: info.messageId, response: info.response };
    },
    verify: () => transport.verify().then(() => undefined),
    close: () => transport.close(),
  };
}

function nodemailerMail({ attachments, headers, ...email }: OutgoingEmail): SendMailOptions {
  return {
    ...email,
    headers: { ...headers },
    ...(attachments
      ? {
          // From another thread a Buffer arrives as a plain Uint8Array; nodemailer wants a Buffer.
          attachments: attachments.map(({ content, ...attachment }) => ({
            ...attachment,
            content: Buffer.isBuffer(content)
              ? content
              : Buffer.from(content.buffer, content.byteOffset, content.byteLength),
          })),
        }
      : {}),
  };
}
