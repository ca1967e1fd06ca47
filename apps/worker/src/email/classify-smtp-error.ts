import {
  PermanentError,
  RetryableError,
  ThrottledError,
  TransportUnavailableError,
} from "../consumer/errors.ts";

/** Replies a provider gives when it refuses more mail for a while (RFC 5321 / 3463 usage). */
const THROTTLE_CODES = new Set([421, 450, 451, 452]);
/** A 5xx that is really a rate limit says so in its text ("rate limit", "limit exceeded", "too many"). */
const THROTTLE_TEXT = /\brate\b|limit|too many/i;
/**
 * …unless it is about the recipient or the message itself (5.1.x addressing, 5.2.x mailbox such as
 * "mailbox full, quota limit", 5.3.4 "message size exceeds limit"): never going to work, however long
 * we wait.
 */
const ABOUT_RECIPIENT_OR_MESSAGE =
  /\b5\.[12]\.\d\b|\b5\.3\.4\b|user unknown|no such user|mailbox (?:full|unavailable|not found|does not exist)|quota|size/i;

/**
 * SMTP's own verdict decides: 5xx means the server will never take this message (bad mailbox,
 * policy) → dead-letter queue; other 4xx replies are temporary for this message → retry.
 * Throttling — 421, 450, 451, 452, or a 5xx whose text says rate, limit or too many and is not about
 * the recipient — is not the message's failure: the email queue pauses for a growing back-off and no
 * attempt is spent. Failures of the server rather than the message — no connection, a timeout, an
 * authentication failure (our configuration) — are a transport outage: the email queue pauses and
 * probes the server instead of spending every message's attempts, so fixing the server or the
 * credentials lets the backlog drain with nothing dead-lettered. `transport` names the breaker
 * (`smtp_fallback` for the SMTP_FALLBACK_* account).
 */
export function classifySmtpError(error: unknown, transport = "smtp"): PermanentError | RetryableError {
  const details = error as { responseCode?: number; code?: string; message?: string; response?: string };
  const message = details.message ?? String(error);
  // The server's own line: nodemailer's wrapper ("all recipients were rejected: …") is not the reply.
  const reply = details.response ?? message;
  const responseCode = details.responseCode;
  if (details.code === "EAUTH") {
    return new TransportUnavailableError(transport, "smtp_auth_failed", message, { cause: error });
  }
  if (responseCode !== undefined && isThrottle(responseCode, reply)) {
    return new ThrottledError(transport, "smtp_throttled", `SMTP ${responseCode}: ${message}`, {
      cause: error,
    });
  }
  if (responseCode !== undefined && responseCode >= 500) {
    return new PermanentError("smtp_rejected", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new RetryableError("smtp_temporary_failure", `SMTP ${responseCode}: ${message}`, { cause: error });
  }
  return new TransportUnavailableError(transport, "smtp_unavailable", message, { cause: error });
}

function isThrottle(responseCode: number, reply: string): boolean {
  if (THROTTLE_CODES.has(responseCode)) return true;
  return responseCode >= 500 && THROTTLE_TEXT.test(reply) && !ABOUT_RECIPIENT_OR_MESSAGE.test(reply);
}
