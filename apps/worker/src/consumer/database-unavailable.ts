import { TransportUnavailableError } from "./errors.ts";

// Socket-level failures node-postgres reports as Node errors.
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);
// SQLSTATEs that mean "the server is going away or not there yet", not "this statement is wrong":
// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
const SERVER_STATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * The error as a database outage, when it is one: lost or refused connections, a server shutting down
 * or starting up, connection exceptions (SQLSTATE class 08). Anything else is the statement's own failure.
 */
export function asDatabaseUnavailable(error: unknown): TransportUnavailableError | undefined {
  if (error instanceof TransportUnavailableError) return error;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const outage =
    (typeof code === "string" &&
      (SOCKET_CODES.has(code) || SERVER_STATES.has(code) || code.startsWith("08"))) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
  if (!outage) return undefined;
  return new TransportUnavailableError("database", "database_unavailable", error.message, { cause: error });
}
