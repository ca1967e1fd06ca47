// Test support (Deno): a local HTTP server answering YooKassa's GET /v3/payments/{id},
// GET /v3/refunds/{id} and POST /v3/payments (recorded, with its Idempotence-Key) from maps, with
// Basic auth checked, and failures on demand.

export interface FakeApi {
  readonly apiUrl: string;
  readonly shopId: string;
  readonly secretKey: string;
  readonly payments: Map<string, Record<string, unknown>>;
  readonly refunds: Map<string, Record<string, unknown>>;
  readonly requests: string[];
  /** POST /v3/payments bodies with their Idempotence-Key. */
  readonly created: Array<{ key: string | null; body: Record<string, unknown> }>;
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
  const created: FakeApi["created"] = [];
  const failures: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    requests.push(`${request.method} ${path}`);
    const failure = failures.shift();
    if (failure) return Response.json({ type: "error", code: "injected" }, { status: failure });
    if (request.headers.get("authorization") !== expected) {
      return Response.json({ type: "error", code: "invalid_credentials" }, { status: 401 });
    }
    if (request.method === "POST" && path === "/v3/payments") {
      const body = (await request.json()) as Record<string, unknown>;
      created.push({ key: request.headers.get("idempotence-key"), body });
      const id = crypto.randomUUID();
      const payment = {
        id,
        status: "pending",
        amount: body.amount,
        metadata: body.metadata,
        confirmation: { type: "redirect", confirmation_url: `https://yoomoney.test/checkout/${id}` },
      };
      payments.set(id, payment);
      return Response.json(payment);
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
    created,
    failNext: (status) => void failures.push(status),
    close: () => server.shutdown(),
  };
}
