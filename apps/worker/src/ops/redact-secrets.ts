/**
 * Log redaction at any depth: pino's `redact` paths reach a fixed depth, and a secret can sit deeper
 * (an error's `config.auth.pass`, a client's options inside options). Values under a secret-looking
 * key are replaced, and a password in a connection string (`postgres://user:pw@host`) is cut out of
 * any string, wherever it is in the logged object.
 */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|cookie|api_?key|service_?role_?key|private_?key|credential/i;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)[^@\s/]+@/gi;
export const REDACTED = "[redacted]";

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(URL_PASSWORD, `$1${REDACTED}@`);
  if (value === null || typeof value !== "object" || depth > 12) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const copy: Record<string, unknown> = {};
  if (value instanceof Error) {
    // pino's log formatter runs before its error serializer: keep what the serializer would show.
    copy.type = value.name;
    copy.message = redactSecrets(value.message, depth + 1);
    copy.stack = redactSecrets(value.stack, depth + 1);
    if (value.cause !== undefined) copy.cause = redactSecrets(value.cause, depth + 1);
  }
  for (const [key, child] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && child !== undefined ? REDACTED : redactSecrets(child, depth + 1);
  }
  return copy;
}
