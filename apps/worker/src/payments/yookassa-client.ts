import { z } from "zod";
import { PermanentError, RetryableError, TransportUnavailableError } from "../consumer/errors.ts";
import type { PaymentProvider, ProviderPayment, ProviderRefund } from "./payment-provider.ts";

export interface YooKassaClientOptions {
  /** Base URL of the API, e.g. `https://api.yookassa.ru/v3`. */
  readonly apiUrl: string;
  readonly shopId: string;
  /** Never logged, never part of an error message. */
  readonly secretKey: string;
  /** How long one request may take, headers and body (default 10 s). */
  readonly timeoutMs?: number;
  /** Test hook; the global fetch by default. */
  readonly fetch?: typeof fetch;
}

/** The part of YooKassa's payment object the worker reads (other fields are ignored). */
const yookassaPaymentSchema = z.object({
  id: z.string().min(1),
  status: z.enum(["pending", "waiting_for_capture", "succeeded", "canceled"]),
  paid: z.boolean(),
  amount: z.object({
    value: z.string().regex(/^\d+(\.\d+)?$/, { error: "must be a decimal string, e.g. 1500.00" }),
    currency: z.string().regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code" }),
  }),
  cancellation_details: z.object({ party: z.string(), reason: z.string() }).optional(),
  created_at: z.string(),
  captured_at: z.string().optional(),
});

/** The part of YooKassa's refund object the worker reads. */
const yookassaRefundSchema = z.object({
  id: z.string().min(1),
  payment_id: z.string().min(1),
  status: z.enum(["pending", "succeeded", "canceled"]),
  amount: yookassaPaymentSchema.shape.amount,
});

/** YooKassa's error body: `{ type: "error", code, description }`; only used for messages. */
const yookassaErrorSchema = z.object({ code: z.string().optional(), description: z.string().optional() });

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Reads payments from the YooKassa API v3 (`GET {apiUrl}/payments/{id}`) and creates refunds
 * (`POST {apiUrl}/refunds` with an `Idempotence-Key`), HTTP Basic auth with the shop id and the
 * secret key.
 *
 * Failures: 404 → PermanentError `payment_not_found`; 401/403 → RetryableError `provider_auth` (the
 * credentials are wrong: a configuration problem the operator fixes, so the message waits); 429, 5xx,
 * network errors and timeouts → RetryableError `provider_unavailable`; any other 4xx →
 * PermanentError `provider_rejected`; a body that is not the payment object → PermanentError
 * `provider_bad_response`.
 *
 * ### Examples
 * ```ts
 * const yookassa = new YooKassaClient({ apiUrl: "https://api.yookassa.ru/v3", shopId, secretKey });
 * const payment = await yookassa.getPayment("2d5c7a5e-000f-5000-9000-1b8a7c1e2f10");
 * ```
 */
export class YooKassaClient implements PaymentProvider {
  readonly name = "yookassa";
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: YooKassaClientOptions) {
    this.#baseUrl = options.apiUrl.replace(/\/+$/, "");
    this.#authorization = `Basic ${Buffer.from(`${options.shopId}:${options.secretKey}`).toString("base64")}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? fetch;
  }

  async getPayment(
    providerPaymentId: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<ProviderPayment> {
    const { status, text } = await this.#request(
      "GET",
      `/payments/${encodeURIComponent(providerPaymentId)}`,
      `payment ${providerPaymentId}`,
      options?.signal,
    );
    if (status >= 200 && status < 300) return parsePayment(text, providerPaymentId);
    throw errorForStatus(status, text, providerPaymentId);
  }

  /** `POST {apiUrl}/refunds` with the `Idempotence-Key`: the same key returns the same refund. */
  async createRefund(
    request: {
      readonly providerPaymentId: string;
      readonly amount: { readonly value: string; readonly currency: string };
      readonly idempotenceKey: string;
    },
    options?: { readonly signal?: AbortSignal },
  ): Promise<ProviderRefund> {
    const { status, text } = await this.#request(
      "POST",
      "/refunds",
      `a refund of payment ${request.providerPaymentId}`,
      options?.signal,
      { payment_id: request.providerPaymentId, amount: request.amount },
      request.idempotenceKey,
    );
    if (status >= 200 && status < 300) {
      const parsed = yookassaRefundSchema.safeParse(parseJson(text));
      if (!parsed.success) {
        throw new PermanentError(
          "provider_bad_response",
          `YooKassa's answer to a refund of payment ${request.providerPaymentId} is not a refund object`,
        );
      }
      return {
        id: parsed.data.id,
        paymentId: parsed.data.payment_id,
        status: parsed.data.status,
        amount: parsed.data.amount,
      };
    }
    throw errorForStatus(status, text, request.providerPaymentId);
  }

  async #request(
    method: "GET" | "POST",
    path: string,
    what: string,
    callerSignal: AbortSignal | undefined,
    body?: unknown,
    idempotenceKey?: string,
  ): Promise<{ status: number; text: string }> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: "application/json",
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (idempotenceKey) headers["idempotence-key"] = idempotenceKey;
    try {
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      if (timeout.aborted) {
        throw new TransportUnavailableError(
          "payment_provider",
          "provider_unavailable",
          `YooKassa did not answer within ${this.#timeoutMs} ms (${what})`,
          { cause: error },
        );
      }
      if (callerSignal?.aborted) {
        throw new RetryableError("aborted", "the YooKassa request was aborted (worker shutting down)", {
          cause: error,
        });
      }
      throw new TransportUnavailableError(
        "payment_provider",
        "provider_unavailable",
        `could not reach YooKassa at ${this.#baseUrl}: ${describeNetworkError(error)}`,
        { cause: error },
      );
    }
  }

  /** Reachable when the API answers anything below 500 (the shop endpoint, without reading it). */
  async probe(): Promise<void> {
    const response = await this.#fetch(`${this.#baseUrl}/me`, {
      method: "GET",
      headers: { authorization: this.#authorization, accept: "application/json" },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    await response.arrayBuffer();
    if (response.status === 429 || response.status >= 500) {
      throw new Error(`YooKassa answered HTTP ${response.status}`);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PermanentError("provider_bad_response", "YooKassa answered with something that is not JSON");
  }
}

function parsePayment(text: string, providerPaymentId: string): ProviderPayment {
  const json = parseJson(text);
  const parsed = yookassaPaymentSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"} ${issue.message}`);
    throw new PermanentError(
      "provider_bad_response",
      `YooKassa's answer for payment ${providerPaymentId} is not a payment object: ${issues.join("; ")}`,
    );
  }
  const payment = parsed.data;
  return {
    id: payment.id,
    status: payment.status,
    paid: payment.paid,
    amount: payment.amount,
    cancellation: payment.cancellation_details,
    createdAt: payment.created_at,
    capturedAt: payment.captured_at,
  };
}

function errorForStatus(status: number, text: string, providerPaymentId: string): Error {
  const detail = describeErrorBody(text);
  if (status === 404) {
    return new PermanentError("payment_not_found", `YooKassa has no payment ${providerPaymentId}${detail}`);
  }
  if (status === 401 || status === 403) {
    return new RetryableError(
      "provider_auth",
      `YooKassa refused the credentials (HTTP ${status})${detail}: check PAYMENT_SHOP_ID and PAYMENT_SECRET_KEY`,
    );
  }
  if (status === 429 || status >= 500) {
    return new TransportUnavailableError(
      "payment_provider",
      "provider_unavailable",
      `YooKassa answered HTTP ${status}${detail}`,
    );
  }
  return new PermanentError(
    "provider_rejected",
    `YooKassa rejected the request for payment ${providerPaymentId} (HTTP ${status})${detail}`,
  );
}

/** `: <code> <description>` from a YooKassa error body, or nothing. */
function describeErrorBody(text: string): string {
  try {
    const parsed = yookassaErrorSchema.safeParse(JSON.parse(text));
    if (parsed.success && (parsed.data.code || parsed.data.description)) {
      return `: ${[parsed.data.code, parsed.data.description].filter(Boolean).join(" ").slice(0, 300)}`;
    }
  } catch {
    // Not JSON (a proxy's HTML page): the status says enough.
  }
  return "";
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause && typeof cause === "object" && "code" in cause && typeof cause.code === "string")
    return cause.code;
  return cause instanceof Error ? cause.message : String(cause);
}
