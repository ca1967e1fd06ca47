import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A payment as YooKassa's API v3 returns it (the fields the worker reads, plus a few it ignores). */
export interface FakePayment {
  id: string;
  status: "pending" | "waiting_for_capture" | "succeeded" | "canceled";
  paid: boolean;
  amount: { value: string; currency: string };
  cancellation_details?: { party: string; reason: string };
  created_at: string;
  captured_at?: string;
  description?: string;
  test?: boolean;
}

/** What the next requests run into, instead of the normal answer. */
export type FakeFailure =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "malformed" };

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly authorized: boolean;
}

export interface FakeYooKassa {
  /** Base URL, like `https://api.yookassa.ru/v3`. */
  readonly apiUrl: string;
  /** Credentials made for this instance; any other Basic auth gets 401. */
  readonly shopId: string;
  readonly secretKey: string;
  readonly requests: readonly FakeRequest[];
  /** Adds or replaces a payment; returns it. */
  putPayment(payment: Partial<FakePayment> & Pick<FakePayment, "status">): FakePayment;
  /** The next `times` requests (default 1) fail this way. */
  failNext(failure: FakeFailure, times?: number): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server speaking the subset of the YooKassa API v3 the worker uses:
 * `GET /v3/payments/{id}` and `GET /v3/me` with HTTP Basic auth (shop id : secret key). Payments live in memory;
 * failures (an HTTP status, a slow answer, a body that is not JSON) can be injected.
 */
export async function startFakeYooKassa(): Promise<FakeYooKassa> {
  const shopId = String(100_000 + (randomBytes(3).readUIntBE(0, 3) % 900_000));
  const secretKey = `test_${randomBytes(24).toString("base64url")}`;
  const expectedAuth = `Basic ${Buffer.from(`${shopId}:${secretKey}`).toString("base64")}`;
  const payments = new Map<string, FakePayment>();
  const failures: FakeFailure[] = [];
  const requests: FakeRequest[] = [];

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const authorized = request.headers.authorization === expectedAuth;
    const path = request.url ?? "/";
    requests.push({ method: request.method ?? "GET", path, authorized });
    const failure = failures.shift();
    if (failure?.kind === "slow") {
      const timer = setTimeout(() => answer(request, response, authorized), failure.delayMs);
      response.on("close", () => clearTimeout(timer));
      return;
    }
    if (failure?.kind === "status") {
      sendJson(response, failure.status, error("internal_server_error", `injected HTTP ${failure.status}`));
      return;
    }
    if (failure?.kind === "malformed") {
      response.writeHead(200, { "content-type": "application/json" }).end("<html>not json</html>");
      return;
    }
    answer(request, response, authorized);
  });

  function answer(request: IncomingMessage, response: ServerResponse, authorized: boolean) {
    if (!authorized) {
      sendJson(response, 401, error("invalid_credentials", "Login or password is incorrect"));
      return;
    }
    if (request.method === "GET" && request.url === "/v3/me") {
      // The shop's own settings (the worker's probe only needs an answer).
      sendJson(response, 200, { account_id: shopId, status: "enabled", test: true });
      return;
    }
    const match = /^\/v3\/payments\/([^/?]+)$/.exec(request.url ?? "");
    if (request.method !== "GET" || !match?.[1]) {
      sendJson(response, 404, error("not_found", "Not found"));
      return;
    }
    const payment = payments.get(decodeURIComponent(match[1]));
    if (!payment) {
      sendJson(
        response,
        404,
        error("not_found", "Incorrect payment_id. Payment doesn't exist or access denied."),
      );
      return;
    }
    sendJson(response, 200, payment);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiUrl: `http://127.0.0.1:${port}/v3`,
    shopId,
    secretKey,
    requests,
    putPayment(fields) {
      const payment: FakePayment = {
        id: randomUUID(),
        paid: fields.status === "succeeded" || fields.status === "waiting_for_capture",
        amount: { value: "1500.00", currency: "RUB" },
        created_at: new Date().toISOString(),
        test: true,
        ...fields,
      };
      payments.set(payment.id, payment);
      return payment;
    },
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(failure);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function error(code: string, description: string) {
  return { type: "error", id: randomUUID(), code, description };
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
