import { describeFieldIssue, type FieldIssue } from "./field-issues.ts";

/**
 * A message (or producer input) does not match its queue's schema. Thrown by the producers before
 * anything is sent, so nothing was enqueued.
 *
 * ### Examples
 * ```ts
 * try {
 *   await queueEmailTask(transport, { to: "not-an-address", template: "report_ready", variables });
 * } catch (error) {
 *   if (error instanceof InvalidMessageError) console.log(error.issues);
 *   // ['email_queue message: "to" must be an email address']
 * }
 * ```
 */
export class InvalidMessageError extends Error {
  readonly code = "invalid_message";
  /** What was checked, e.g. `email_queue message`. */
  readonly subject: string;
  /** One sentence per problem, each naming its field: `email_queue message: "to" must be an email address`. */
  readonly issues: readonly string[];
  /** The same problems as `{ path, message }`, for putting each next to its form field. */
  readonly fields: readonly FieldIssue[];

  constructor(subject: string, fields: readonly FieldIssue[]) {
    const issues = fields.map((field) => describeFieldIssue(subject, field));
    super(
      issues.length === 1
        ? `${issues[0]} (nothing was enqueued)`
        : `${issues.length} problems, nothing was enqueued:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`,
    );
    this.name = "InvalidMessageError";
    this.subject = subject;
    this.issues = Object.freeze(issues);
    this.fields = Object.freeze([...fields]);
  }
}

/** An argument of a consumer primitive is out of its range (e.g. `qty` 0); nothing was sent to the database. */
export class InvalidArgumentError extends Error {
  readonly code = "invalid_argument";
  readonly issues: readonly string[];

  constructor(operation: string, fields: readonly FieldIssue[]) {
    const issues = fields.map((field) => describeFieldIssue(operation, field));
    super(issues.join("; "));
    this.name = "InvalidArgumentError";
    this.issues = Object.freeze(issues);
  }
}

/** Why an RPC failed, from its SQLSTATE (or PostgREST code) and HTTP status. */
export type QueueRpcFailure =
  /** The caller's role may not call the function (42501): wrong key, or a browser calling a server RPC. */
  | "permission_denied"
  /** The thing asked about does not exist or is not the caller's (P0002). */
  | "not_found"
  /** An argument was refused by the database (22xxx, 23xxx). */
  | "invalid_argument"
  /** The function does not exist: a migration is missing (42883, PGRST202). */
  | "missing_function"
  /** The database or the API could not be reached; retrying later may work (08xxx, 53xxx, 57Pxx, 5xx). */
  | "unavailable"
  /** Anything else. */
  | "failed";

export interface QueueRpcErrorDetails {
  readonly rpc: string;
  readonly message: string;
  readonly sqlState?: string | undefined;
  readonly details?: string | undefined;
  readonly hint?: string | undefined;
  /** HTTP status, when the call went over HTTP (supabase-js). */
  readonly status?: number | undefined;
  readonly cause?: unknown;
}

/**
 * A queue RPC (`queue_email_task`, `request_assessment_report`, …) failed in the database or on the
 * way there. `reason` says what kind of failure it is; `sqlState`, `details` and `hint` are the
 * database's (or PostgREST's) own.
 */
export class QueueRpcError extends Error {
  readonly code = "queue_rpc_failed";
  readonly rpc: string;
  readonly sqlState: string | undefined;
  readonly details: string | undefined;
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly reason: QueueRpcFailure;

  constructor(failure: QueueRpcErrorDetails) {
    const reason = classifyFailure(failure.sqlState, failure.status);
    super(
      `${failure.rpc} failed: ${failure.message}${failure.sqlState ? ` (${failure.sqlState})` : ""}${advice(failure.rpc, reason)}`,
      failure.cause === undefined ? undefined : { cause: failure.cause },
    );
    this.name = "QueueRpcError";
    this.rpc = failure.rpc;
    this.sqlState = failure.sqlState;
    this.details = failure.details;
    this.hint = failure.hint;
    this.status = failure.status;
    this.reason = reason;
  }
}

function classifyFailure(sqlState: string | undefined, status: number | undefined): QueueRpcFailure {
  if (sqlState === "42501") return "permission_denied";
  if (sqlState === "P0002") return "not_found";
  if (sqlState === "42883" || sqlState === "PGRST202") return "missing_function";
  if (sqlState?.startsWith("22") || sqlState?.startsWith("23")) return "invalid_argument";
  if (sqlState && /^(08|53|57P)/.test(sqlState)) return "unavailable";
  if (status !== undefined && (status === 0 || status >= 502)) return "unavailable";
  if (status === 401 || status === 403) return "permission_denied";
  return "failed";
}

function advice(rpc: string, reason: QueueRpcFailure): string {
  switch (reason) {
    case "permission_denied":
      return rpc === "request_assessment_report"
        ? ". Sign in first: only a signed-in user may request a report of their own checkup."
        : `. ${rpc} is for service_role only: call it from a server with the service-role key or a database connection; the browser may call only request_assessment_report.`;
    case "missing_function":
      return ". Apply the migrations in supabase/migrations (031_setup_queues.sql, 033_pgmq_rpc_wrappers.sql).";
    default:
      return "";
  }
}
