const REDACTED = "***";

/**
 * Returns a connection string safe to log: the password (in the user-info part, or a `password`
 * query parameter, or a `password=` keyword) is replaced by `***`. A URL that does not parse is
 * not echoed at all, since the password may sit anywhere in it.
 *
 * ### Examples
 * ```ts
 * import { redactConnectionString } from "@balansity/db";
 *
 * redactConnectionString("postgresql://postgres.project-ref:example-password-not-real@aws-0-eu-north-1.pooler.supabase.com:6543/postgres");
 * // "postgresql://postgres.project-ref:***@aws-0-eu-north-1.pooler.supabase.com:6543/postgres"
 * redactConnectionString("host=localhost user=postgres password=secret"); // "host=localhost user=postgres password=***"
 * ```
 */
export function redactConnectionString(connectionString: string): string {
  if (!connectionString.includes("://")) {
    // libpq keyword/value form: host=... password='...'
    return connectionString.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)/gi, `$1${REDACTED}`);
  }
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return "[unparseable connection string]";
  }
  if (url.password !== "") url.password = REDACTED;
  for (const key of [...url.searchParams.keys()]) {
    if (key.toLowerCase() === "password") url.searchParams.set(key, REDACTED);
  }
  // A '#' in an unencoded password starts a fragment: drop whatever follows it.
  url.hash = "";
  return url.toString();
}
