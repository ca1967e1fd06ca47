// Test support (Deno): a local HTTP server answering YooKassa's GET /v3/payments/{id} and
// GET /v3/refunds/{id} from maps, with Basic auth checked, and failures on demand.

export interface FakeApi {
  readonly apiUrl: string;
  readonly shopId: string;
  readonly secretKey: string;
  readonly payments: Map<string, Record<string, unknown>>;
  readonly refunds: Map<string, Record<string, unknown>>;
  readonly requests: string[];
  /** The next request answers this HTTP status. */
  failNext(status: number): void;
  close(): Promise<void>;
}

export function startFakeApi(): FakeApi {
  const shopId = String(100000 + Math.floor(Math.random() * 900000));
  const secretKey = `test_${crypto.randomUUID()}`;
  const expected = `Basic ${btoa(`${shopId}:${secretKey}`)}`;
  const payments = new Map<string, Record<string, unknown>>();
  const refunds = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const failures: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(`${request.method} ${path}`);
    const failure = failures.shift();
    if (failure) return Response.json({ type: "error", code: "injected" }, { status: failure });
    if (request.headers.get("authorization") !== expected) {
      return Response.json({ type: "error", code: "invalid_credentials" }, { status: 401 });
    }
    const match = /^\/v3\/(payments|refunds)\/([^/]+)$/.exec(path);
    const found =
      match && (match[1] === "payments" ? payments : refunds).get(decodeURIComponent(match[2] ?? ""));
    if (!found) return Response.json({ type: "error", code: "not_found" }, { status: 404 });
    return Response.json(found);
  });
  return {
    apiUrl: `http://127.0.0.1:${server.addr.port}/v3`,
    shopId,
    secretKey,
    payments,
    refunds,
    requests,
    failNext: (status) => void failures.push(status),
    close: () => server.shutdown(),
  };
}
