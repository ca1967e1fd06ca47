// The worker's SMTP settings for a discarding server on 127.0.0.1, built by the worker's own loadConfig:
// every other field (thread, send budget, throttling pause, DKIM) at its shipped default, so a
// benchmark's transport is configured as the worker's is, and stays complete when fields are added.
import { loadConfig } from "../../apps/worker/src/config/load-config.ts";
import type { SmtpConfig } from "../../apps/worker/src/config/worker-config.ts";

export function sinkSmtpConfig(port: number, maxConnections: number): SmtpConfig {
  return loadConfig({
    // Required by loadConfig, never connected to: only the SMTP part is used.
    DATABASE_URL: "postgres://bench@127.0.0.1:5432/bench",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(port),
    SMTP_SECURE: "none",
    SMTP_FROM: "noreply@balansity.test",
    SMTP_FROM_NAME: "Balansity",
    SMTP_MAX_CONNECTIONS: String(maxConnections),
  }).smtp;
}
