import { PermanentError, RetryableError } from "../consumer/errors.ts";

/**
 * SMTP's own verdict decides: 5xx means the server will never take this message (bad mailbox,
 * policy) → dead-letter queue; 4xx, timeouts and lost connections are temporary → retry.
 * An authentication failure is our configuration, not the message: retry, so fixing the
 * credentials lets the backlog drain instead of dead-lettering every email.
 */
export function classifySmtpError(error: unknown): PermanentError | RetryableError {
  const details = error as { responseCode?: number; code?: string; message?: string };
  const message = details.message ?? String(error);
  const responseCode = details.responseCode;
  if (details.code === "EAUTH") return new RetryableError("smtp_auth_failed", message, { cause: error });
  if (responseCode !== undefined && responseCode >= 500) {
    return new PermanentError("smtp_rejected", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new RetryableError("smtp_temporary_failure", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  return new RetryableError("smtp_unavailable", message, { cause: error });
}
