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

/**
 * The transport answered "not now, you are sending too much" (an SMTP 421/450/451/452, or a 5xx whose
 * text names a rate or a limit): it works, but refuses more for a while. The queue pauses like for an
 * outage, but a probe cannot end the pause — a throttling server answers EHLO normally — so the
 * breaker waits out a growing back-off and lets the next message find out.
 */
export class ThrottledError extends TransportUnavailableError {
  constructor(transport: string, code: string, message: string, options?: ErrorOptions) {
    super(transport, code, message, options);
    this.name = "ThrottledError";
  }
}
