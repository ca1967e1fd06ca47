import nodemailer from "nodemailer";
import type { SmtpConfig } from "../config/worker-config.ts";

/**
 * A pooled nodemailer transport: connections are reused across messages (the provider's limit is
 * `maxConnections`). 465 speaks TLS from the first byte; 587 must upgrade with STARTTLS (refused
 * otherwise, so credentials never cross the wire in clear); `none` is for local sinks only.
 */
export function createSmtpTransport(config: SmtpConfig) {
  return nodemailer.createTransport({
    pool: true,
    maxConnections: config.maxConnections,
    maxMessages: 1000,
    host: config.host,
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    ...(config.user && config.password ? { auth: { user: config.user, pass: config.password } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}

export type SmtpTransport = ReturnType<typeof createSmtpTransport>;
