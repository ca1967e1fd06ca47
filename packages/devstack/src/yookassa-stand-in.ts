import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for YooKassa (a third-party service we cannot run), speaking the part of its
 * documented API v3 that Balansity uses, over real HTTP, with HTTP Basic auth (shop id : secret key,
 * made per instance at run time):
 *
 *   POST /v3/payments        create (Idempotence-Key required; the same key returns the same payment)
 *   GET  /v3/payments/{id}
 *   POST /v3/refunds         refund a succeeded payment (Idempotence-Key required); succeeds at once
 *   GET  /v3/refunds/{id}
 *   GET  /v3/me              the shop
 *
 * and sending HTTP notifications the way YooKassa does: `POST <notification URL>` with
 * `{ type: "notification", event, object }`, delivered again after a non-200 answer or a network
 * error (YooKassa keeps trying for 24 hours; here `retryDelaysMs` sets the schedule).
 *
 * For a process that cannot call the methods (the smoke run against `pnpm dev`), the same actions
 * are HTTP endpoints without auth: `POST /stand-in/payments/{id}/succeed`, `.../cancel`.
 * LOCAL TESTS ONLY.
 */

export type StandInPaymentStatus = "pending" | "waiting_for_capture" | "succeeded" | "canceled";

export interface StandInPayment {
  id: string;
  status: StandInPaymentStatus;
  paid: boolean;
  amount: { value: string; currency: string };
  cancellation_details?: { party: string; reason: string };
  created_at: string;
  captured_at?: string;
  description?: string;
  metadata?: Record<string, unknown>;
  confirmation?: { type: string; confirmation_url: string; return_url?: string };
  refunded_amount?: { value: string; currency: string };
  test?: boolean;
}

export interface StandInRefund {
  id: string;
  payment_id: string;
  status: "pending" | "succeeded" | "canceled";
  amount: { value: string; currency: string };
  created_at: string;
}

/** What the next requests run into, instead of the normal answer. */
export type StandInFailure =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "malformed" };

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly authorized: boolean;
  readonly idempotenceKey: string | undefined;
}

/** One attempt to deliver a notification. */
export interface StandInDelivery {
  readonly event: string;
  readonly objectId: string;
  readonly attempt: number;
  /** The receiver's HTTP status; 0 when it could not be reached. */
  readonly status: number;
}

export interface YooKassaStandIn {
  /** Base URL, like `https://api.yookassa.ru/v3`. */
  readonly apiUrl: string;
  readonly shopId: string;
  readonly secretKey: string;
  readonly requests: readonly StandInRequest[];
  readonly deliveries: readonly StandInDelivery[];
  readonly refunds: readonly StandInRefund[];
  /** Where notifications go (the yookassa-webhook function); undefined: none are sent. */
  setNotificationUrl(url: string | undefined): void;
  /** Adds or replaces a payment; returns it. Sends nothing. */
  putPayment(payment: Partial<StandInPayment> & Pick<StandInPayment, "status">): StandInPayment;
  getPayment(id: string): StandInPayment | undefined;
  /** The payer paid: succeeded, and payment.succeeded is delivered (resolves when delivered or given up). */
  succeedPayment(id: string): Promise<void>;
  /** The payment failed: canceled with `reason`, and payment.canceled is delivered. */
  cancelPayment(id: string, reason?: string): Promise<void>;
  /**
   * Delivers a notification about any object, as YooKassa would (a forged one too: the receiver must
   * not believe it). `times` sends it again after each 200 (YooKassa may deliver more than once).
   */
  notify(event: string, object: object, options?: { times?: number }): Promise<void>;
  /** The next `times` API requests (default 1) fail this way. */
  failNext(failure: StandInFailure, times?: number): void;
  close(): Promise<void>;
}

export interface YooKassaStandInOptions {
  readonly notificationUrl?: string;
  /** Waits before each new delivery after a failed one; when they run out, it gives up. */
  readonly retryDelaysMs?: readonly number[];
  readonly host?: string;
  readonly port?: number;
}

export async function startYooKassaStandIn(options: YooKassaStandInOptions = {}): Promise<YooKassaStandIn> {
  const shopId = String(100_000 + (randomBytes(3).readUIntBE(0, 3) % 900_000));
  const secretKey = `test_${randomBytes(24).toString("base64url")}`;
  const expectedAuth = `Basic ${Buffer.from(`${shopId}:${secretKey}`).toString("base64")}`;
  const payments = new Map<string, StandInPayment>();
  const refunds = new Map<string, StandInRefund>();
  const byIdempotenceKey = new Map<string, { status: number; body: unknown }>();
  const failures: StandInFailure[] = [];
  const requests: StandInRequest[] = [];
  const deliveries: StandInDelivery[] = [];
  const retryDelaysMs = options.retryDelaysMs ?? [200, 1000, 5000];
  let notificationUrl = options.notificationUrl;
  let baseUrl = "";

  async function deliver(event: string, object: { id?: unknown }): Promise<void> {
    if (!notificationUrl) return;
    const body = JSON.stringify({ type: "notification", event, object });
    for (let attempt = 1; ; attempt += 1) {
      let status = 0;
      try {
        const response = await fetch(notificationUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      deliveries.push({ event, objectId: String(object.id), attempt, status });
      if (status === 200) return;
      const delay = retryDelaysMs[attempt - 1];
      if (delay === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  function createPayment(body: Record<string, unknown>): { status: number; body: unknown } {
    const amount = body.amount as { value?: unknown; currency?: unknown } | undefined;
    if (
      typeof amount?.value !== "string" ||
      !/^\d+(\.\d{1,2})?$/.test(amount.value) ||
      typeof amount.currency !== "string"
    ) {
      return { status: 400, body: error("invalid_request", "Parameter 'amount' is invalid", "amount") };
    }
    const id = randomUUID();
    const confirmation = body.confirmation as { type?: string; return_url?: string } | undefined;
    const payment: StandInPayment = {
      id,
      status: "pending",
      paid: false,
      amount: { value: Number(amount.value).toFixed(2), currency: amount.currency },
      created_at: new Date().toISOString(),
      test: true,
      ...(typeof body.description === "string" ? { description: body.description } : {}),
      ...(body.metadata && typeof body.metadata === "object"
        ? { metadata: body.metadata as Record<string, unknown> }
        : {}),
      ...(confirmation?.type === "redirect"
        ? {
            confirmation: {
              type: "redirect",
              confirmation_url: `${baseUrl}/checkout/${id}`,
              ...(confirmation.return_url ? { return_url: confirmation.return_url } : {}),
            },
          }
        : {}),
    };
    payments.set(id, payment);
    return { status: 200, body: payment };
  }

  function createRefund(body: Record<string, unknown>): {
    status: number;
    body: unknown;
    refund?: StandInRefund;
  } {
    const payment = typeof body.payment_id === "string" ? payments.get(body.payment_id) : undefined;
    if (!payment) return { status: 404, body: error("not_found", "Payment doesn't exist or access denied.") };
    if (payment.status !== "succeeded") {
      return {
        status: 400,
        body: error("invalid_request", "Refund is available for succeeded payments only"),
      };
    }
    const amount = body.amount as { value?: unknown; currency?: unknown } | undefined;
    const value = Number(amount?.value);
    const already = Number(payment.refunded_amount?.value ?? 0);
    if (!Number.isFinite(value) || value <= 0 || amount?.currency !== payment.amount.currency) {
      return { status: 400, body: error("invalid_request", "Parameter 'amount' is invalid", "amount") };
    }
    if (value + already > Number(payment.amount.value) + 1e-9) {
      return {
        status: 400,
        body: error("invalid_request", "The refund amount is more than the payment's", "amount"),
      };
    }
    const refund: StandInRefund = {
      id: randomUUID(),
      payment_id: payment.id,
      status: "succeeded",
      amount: { value: value.toFixed(2), currency: payment.amount.currency },
      created_at: new Date().toISOString(),
    };
    refunds.set(refund.id, refund);
    payment.refunded_amount = { value: (already + value).toFixed(2), currency: payment.amount.currency };
    return { status: 200, body: refund, refund };
  }

  async function succeed(id: string): Promise<void> {
    const payment = payments.get(id);
    if (!payment) throw new Error(`the stand-in has no payment ${id}`);
    payment.status = "succeeded";
    payment.paid = true;
    payment.captured_at = new Date().toISOString();
    await deliver("payment.succeeded", payment);
  }

  async function cancel(id: string, reason = "insufficient_funds"): Promise<void> {
    const payment = payments.get(id);
    if (!payment) throw new Error(`the stand-in has no payment ${id}`);
    payment.status = "canceled";
    payment.paid = false;
    payment.cancellation_details = { party: "payment_network", reason };
    await deliver("payment.canceled", payment);
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readBody(request).then((text) => {
      const path = request.url ?? "/";
      const control = /^\/stand-in\/payments\/([^/]+)\/(succeed|cancel)$/.exec(path);
      if (control?.[1] && request.method === "POST") {
        const id = decodeURIComponent(control[1]);
        if (!payments.has(id)) return sendJson(response, 404, error("not_found", "no such payment"));
        void (control[2] === "succeed" ? succeed(id) : cancel(id));
        return sendJson(response, 202, { accepted: true });
      }
      const authorized = request.headers.authorization === expectedAuth;
      const idempotenceKey = header(request, "idempotence-key");
      requests.push({ method: request.method ?? "GET", path, authorized, idempotenceKey });
      const failure = failures.shift();
      if (failure?.kind === "slow") {
        const timer = setTimeout(
          () => answer(request, response, authorized, text, idempotenceKey),
          failure.delayMs,
        );
        response.on("close", () => clearTimeout(timer));
        return;
      }
      if (failure?.kind === "status") {
        return sendJson(
          response,
          failure.status,
          error("internal_server_error", `injected HTTP ${failure.status}`),
        );
      }
      if (failure?.kind === "malformed") {
        response.writeHead(200, { "content-type": "application/json" }).end("<html>not json</html>");
        return;
      }
      answer(request, response, authorized, text, idempotenceKey);
    });
  });

  function answer(
    request: IncomingMessage,
    response: ServerResponse,
    authorized: boolean,
    text: string,
    idempotenceKey: string | undefined,
  ) {
    if (!authorized)
      return sendJson(response, 401, error("invalid_credentials", "Login or password is incorrect"));
    const path = request.url ?? "";
    if (request.method === "GET" && path === "/v3/me") {
      return sendJson(response, 200, { account_id: shopId, status: "enabled", test: true });
    }
    if (request.method === "POST" && (path === "/v3/payments" || path === "/v3/refunds")) {
      if (!idempotenceKey) {
        return sendJson(
          response,
          400,
          error("invalid_request", "Idempotence key is missing", "Idempotence-Key"),
        );
      }
      const remembered = byIdempotenceKey.get(`${path} ${idempotenceKey}`);
      if (remembered) return sendJson(response, remembered.status, remembered.body);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return sendJson(response, 400, error("invalid_request", "The request body is not JSON"));
      }
      const result = path === "/v3/payments" ? createPayment(body) : createRefund(body);
      byIdempotenceKey.set(`${path} ${idempotenceKey}`, { status: result.status, body: result.body });
      sendJson(response, result.status, result.body);
      if ("refund" in result && result.refund) void deliver("refund.succeeded", result.refund);
      return;
    }
    const match = /^\/v3\/(payments|refunds)\/([^/?]+)$/.exec(path);
    if (request.method !== "GET" || !match?.[2])
      return sendJson(response, 404, error("not_found", "Not found"));
    const id = decodeURIComponent(match[2]);
    const found = match[1] === "payments" ? payments.get(id) : refunds.get(id);
    if (!found) {
      return sendJson(
        response,
        404,
        error(
          "not_found",
          `Incorrect ${match[1] === "payments" ? "payment" : "refund"}_id. It doesn't exist or access denied.`,
        ),
      );
    }
    sendJson(response, 200, found);
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${options.host ?? "127.0.0.1"}:${port}`;

  return {
    apiUrl: `${baseUrl}/v3`,
    shopId,
    secretKey,
    requests,
    deliveries,
    get refunds() {
      return [...refunds.values()];
    },
    setNotificationUrl(url) {
      notificationUrl = url;
    },
    putPayment(fields) {
      const payment: StandInPayment = {
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
    getPayment: (id) => payments.get(id),
    succeedPayment: succeed,
    cancelPayment: cancel,
    async notify(event, object, notifyOptions) {
      for (let i = 0; i < (notifyOptions?.times ?? 1); i += 1) await deliver(event, object);
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

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", () => resolve(""));
  });
}

function error(code: string, description: string, parameter?: string) {
  return { type: "error", id: randomUUID(), code, description, ...(parameter ? { parameter } : {}) };
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
