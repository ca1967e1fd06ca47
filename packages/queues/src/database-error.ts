import { QueueRpcError } from "./errors.ts";

/** node-postgres' DatabaseError (or anything else a server-side transport throws) → QueueRpcError. */
export function fromDatabaseError(rpc: string, error: unknown): QueueRpcError {
  const pgError = error as { message?: unknown; code?: unknown; detail?: unknown; hint?: unknown };
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const code = text(pgError.code);
  const sqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  return new QueueRpcError({
    rpc,
    message: text(pgError.message) ?? String(error),
    sqlState,
    // A Node system error (ECONNREFUSED, ETIMEDOUT, …): the database was not reached.
    status: code?.startsWith("E") ? 0 : undefined,
    details: text(pgError.detail),
    hint: text(pgError.hint),
    cause: error,
  });
}
