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

/**
 * A transport the processor depends on is down (SMTP refuses connections, the database restarts, the
 * payment provider does not answer): not the message's fault. The consumer pauses the queue behind
 * `transport`'s circuit breaker and hands the message back without spending an attempt.
 */
export class TransportUnavailableError extends RetryableError {
  readonly transport: string;
  constructor(transport: string, code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "TransportUnavailableError";
    this.transport = transport;
  }
}
