/** A PostgREST error or an unreachable API: the caller answers 5xx so the sender retries. */
export class DatabaseRpcError extends Error {
  readonly code: string;
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "DatabaseRpcError";
    this.code = code;
  }
}

/**
 * Calls `public.<fn>` through the project's REST API (`POST /rest/v1/rpc/<fn>`), as supabase-js
 * `rpc()` does, with `apikey` and the bearer token given (the service-role key, or a user's JWT).
 */
export async function callRpc<T>(
  options: {
    readonly supabaseUrl: string;
    readonly apiKey: string;
    readonly bearer: string;
    readonly fetch?: typeof fetch;
  },
  fn: string,
  args: Record<string, unknown>,
): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${options.supabaseUrl.replace(/\/+$/, "")}/rest/v1/rpc/${fn}`, {
      method: "POST",
      headers: {
        apikey: options.apiKey,
        authorization: `Bearer ${options.bearer}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify(args),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new DatabaseRpcError("database_unreachable", `could not call ${fn}: ${String(error)}`, 503);
  }
  const text = await response.text();
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? message;
    } catch {
      // Not PostgREST's JSON: the status says enough.
    }
    throw new DatabaseRpcError(code, `${fn} failed: ${message}`, response.status);
  }
  return (text ? JSON.parse(text) : null) as T;
}
