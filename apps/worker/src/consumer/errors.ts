/**
 * A failure that retrying cannot fix (bad data, SMTP 5xx, unknown payment): the message goes to the
 * dead-letter queue at once. Any other error is retried with backoff until max attempts.
 */
export class PermanentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
    this.code = code;
  }
}

/** A failure worth retrying (SMTP 4xx, connection lost, provider 5xx); `code` is for logs and metrics. */
export class RetryableError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RetryableError";
    this.code = code;
  }
}
