import { QueueRpcError } from "./errors.ts";

/**
 * The errors a signed-in user's calls end in, one class per thing the frontend does differently:
 * sign in ({@link NotSignedInError}), say "not found" ({@link NotOwnerError}), wait for the checkup
 * ({@link NotCompletedError}), or say when to try again ({@link RateLimitedError}). Each has a stable
 * `code`, the RPC or step it came from, and the original failure as `cause`.
 */
export abstract class FrontendCallError extends Error {
  abstract readonly code: string;
  /** The RPC (or step) that failed, e.g. `request_assessment_report`. */
  readonly rpc: string;

  constructor(rpc: string, message: string, cause: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.rpc = rpc;
  }
}

/** The call needs a signed-in user and has none (no session, or an expired one): sign in and retry. */
export class NotSignedInError extends FrontendCallError {
  readonly code = "not_signed_in";

  constructor(rpc: string, cause?: unknown) {
    super(rpc, `${rpc}: sign in first; this call needs a signed-in user`, cause);
    this.name = "NotSignedInError";
  }
}

/**
 * The checkup or report does not exist or belongs to someone else. The database answers both the
 * same way on purpose, so ids cannot be probed; show "not found".
 */
export class NotOwnerError extends FrontendCallError {
  readonly code = "not_owner";
  /** The id asked about. */
  readonly id: string;

  constructor(rpc: string, id: string, cause?: unknown) {
    super(rpc, `${rpc}: ${id} does not exist or is not the signed-in user's`, cause);
    this.name = "NotOwnerError";
    this.id = id;
  }
}

/** A report is made of a completed checkup only: complete it (status `completed`) first. */
export class NotCompletedError extends FrontendCallError {
  readonly code = "not_completed";
  readonly assessmentId: string;

  constructor(rpc: string, assessmentId: string, cause?: unknown) {
    super(rpc, `${rpc}: checkup ${assessmentId} is not completed yet; a report is made once it is`, cause);
    this.name = "NotCompletedError";
    this.assessmentId = assessmentId;
  }
}

/**
 * The user asked for more than the per-user limit allows (report requests: 3 a day by default).
 * `retryAt` is when the oldest request in the window leaves it, so the next one is accepted.
 *
 * ### Examples
 * ```ts
 * catch (error) {
 *   if (error instanceof RateLimitedError) show(`Try again after ${error.retryAt.toLocaleString()}`);
 * }
 * ```
 */
export class RateLimitedError extends FrontendCallError {
  readonly code = "rate_limited";
  /** The moment the next request will be accepted. */
  readonly retryAt: Date;

  constructor(rpc: string, retryAt: Date, cause?: unknown) {
    super(rpc, `${rpc}: too many requests; try again after ${retryAt.toISOString()}`, cause);
    this.name = "RateLimitedError";
    this.retryAt = retryAt;
  }

  /** Whole seconds from `now` until {@link retryAt} (0 once it has passed). */
  retryAfterSeconds(now: Date = new Date()): number {
    return Math.max(0, Math.ceil((this.retryAt.getTime() - now.getTime()) / 1000));
  }
}

// request_assessment_report's PT429 message ends with "… the next one is possible after <timestamptz>"
// (PostgreSQL's ISO output, e.g. 2026-12-07 13:31:02.123456+00).
const RETRY_AT =
  /possible after (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?/;

/** When a PT429 answer says the next request is possible, or undefined when it does not say. */
export function parseRetryAt(message: string): Date | undefined {
  const match = RETRY_AT.exec(message);
  if (!match) return undefined;
  const [, date, time, hours, minutes] = match;
  const retryAt = new Date(`${date}T${time}${hours}:${minutes ?? "00"}`);
  return Number.isNaN(retryAt.getTime()) ? undefined : retryAt;
}

/**
 * A failed `request_assessment_report` → the frontend's error for it; anything else stays as it was.
 * Without a time in the answer the retry time is a day from `now` (the default window).
 */
export function toReportRequestError(error: unknown, assessmentId: string, now: () => Date): unknown {
  if (!(error instanceof QueueRpcError)) return error;
  const rpc = error.rpc;
  if (error.sqlState === "PT429" || error.status === 429) {
    const retryAt = parseRetryAt(error.message) ?? new Date(now().getTime() + 86_400_000);
    return new RateLimitedError(rpc, retryAt, error);
  }
  if (error.reason === "permission_denied") return new NotSignedInError(rpc, error);
  if (error.reason === "not_found") return new NotOwnerError(rpc, assessmentId, error);
  if (error.sqlState === "22023") return new NotCompletedError(rpc, assessmentId, error);
  return error;
}
