import { PermanentError, RetryableError, TransportUnavailableError } from "../consumer/errors.ts";

/**
 * SMTP's own verdict decides: 5xx means the server will never take this message (bad mailbox,
 * policy) → dead-letter queue; other 4xx replies are temporary for this message → retry.
 * Failures of the server rather than the message — no connection, a timeout, 421 "service not
 * available", an authentication failure (our configuration) — are a transport outage: the email
 * queue pauses and probes the server instead of spending every message's attempts, so fixing the
 * server or the credentials lets the backlog drain with nothing dead-lettered.
 */
export function classifySmtpError(error: unknown): PermanentError | RetryableError {
  const details = error as { responseCode?: number; code?: string; message?: string };
  const message = details.message ?? String(error);
  const responseCode = details.responseCode;
  if (details.code === "EAUTH") {
    return new TransportUnavailableError("smtp", "smtp_auth_failed", message, { cause: error });
  }
  if (responseCode === 421) {
    return new TransportUnavailableError("smtp", "smtp_unavailable", `SMTP 421: ${message}`, {
      cause: error,
    });
  }
  if (responseCode !== undefined && responseCode >= 500) {
    return new PermanentError("smtp_rejected", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new RetryableError("smtp_temporary_failure", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  return new TransportUnavailableError("smtp", "smtp_unavailable", message, { cause: error });
}
