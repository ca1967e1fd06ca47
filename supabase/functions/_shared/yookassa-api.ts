import { z } from "./deps.ts";

/** YooKassa could not be asked (network, 401/403, 429, 5xx, nonsense): try again later. */
export class YooKassaApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "YooKassaApiError";
    this.code = code;
  }
}

const money = z.object({
  value: z.string().regex(/^\d+(\.\d+)?$/, { error: "must be a decimal string, e.g. 1500.00" }),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code" }),
});

/** The part of a payment object we read; the whole object goes to the database as the API sent it. */
export const paymentObjectSchema = z.looseObject({
  id: z.string().min(1),
  status: z.enum(["pending", "waiting_for_capture", "succeeded", "canceled"]),
  amount: money,
  metadata: z.record(z.string(), z.unknown()).optional(),
  confirmation: z.looseObject({ type: z.string(), confirmation_url: z.string().optional() }).optional(),
});
export type PaymentObject = z.output<typeof paymentObjectSchema>;

export const refundObjectSchema = z.looseObject({
  id: z.string().min(1),
  payment_id: z.string().min(1),
  status: z.enum(["pending", "succeeded", "canceled"]),
  amount: money,
});
export type RefundObject = z.output<typeof refundObjectSchema>;

export interface YooKassaApiOptions {
  /** e.g. `https://api.yookassa.ru/v3`. */
  readonly apiUrl: string;
  readonly shopId: string;
  /** Never logged, never part of an error message. */
  readonly secretKey: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/**
 * YooKassa's API v3 with HTTP Basic auth (shop id : secret key): read a payment or a refund (null
 * when the API does not know it: 404), create a payment with an `Idempotence-Key`.
 *
 * ### Examples
 * ```ts
 * const api = yookassaApi({ apiUrl, shopId, secretKey });
 * const payment = await api.getPayment("2d5c7a5e-000f-5000-9000-1b8a7c1e2f10"); // null: no such payment
 * ```
 */
export function yookassaApi(options: YooKassaApiOptions) {
  const base = options.apiUrl.replace(/\/+$/, "");
  const authorization = `Basic ${btoa(`${options.shopId}:${options.secretKey}`)}`;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    idempotenceKey?: string,
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { authorization, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (idempotenceKey) headers["idempotence-key"] = idempotenceKey;
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new YooKassaApiError(
        "provider_unavailable",
        `could not reach YooKassa (${method} ${path}): ${String(error)}`,
      );
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (response.status === 401 || response.status === 403) {
      throw new YooKassaApiError(
        "provider_auth",
        `YooKassa refused the credentials (HTTP ${response.status}): check PAYMENT_SHOP_ID and PAYMENT_SECRET_KEY`,
      );
    }
    if (response.status === 429 || response.status >= 500) {
      throw new YooKassaApiError(
        "provider_unavailable",
        `YooKassa answered HTTP ${response.status} (${method} ${path})`,
      );
    }
    return { status: response.status, json };
  }

  function parsed<T extends z.ZodType>(schema: T, json: unknown, what: string): z.output<T> {
    const result = schema.safeParse(json);
    if (result.success) return result.data;
    const issues = result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"} ${issue.message}`);
    throw new YooKassaApiError(
      "provider_bad_response",
      `YooKassa's answer is not ${what}: ${issues.join("; ")}`,
    );
  }

  async function getObject<T extends z.ZodType>(schema: T, path: string, what: string) {
    const { status, json } = await request("GET", path);
    if (status === 404) return null;
    if (status >= 400) {
      throw new YooKassaApiError("provider_rejected", `YooKassa rejected GET ${path} (HTTP ${status})`);
    }
    return parsed(schema, json, what);
  }

  return {
    getPayment: (id: string): Promise<PaymentObject | null> =>
      getObject(paymentObjectSchema, `/payments/${encodeURIComponent(id)}`, "a payment"),
    getRefund: (id: string): Promise<RefundObject | null> =>
      getObject(refundObjectSchema, `/refunds/${encodeURIComponent(id)}`, "a refund"),
    /** The same key within 24 hours returns the same payment instead of a second one. */
    async createPayment(body: Record<string, unknown>, idempotenceKey: string): Promise<PaymentObject> {
      const { status, json } = await request("POST", "/payments", body, idempotenceKey);
      if (status >= 400) {
        const description = (json as { description?: unknown } | null)?.description;
        throw new YooKassaApiError(
          "provider_rejected",
          `YooKassa refused to create the payment (HTTP ${status})${typeof description === "string" ? `: ${description.slice(0, 200)}` : ""}`,
        );
      }
      return parsed(paymentObjectSchema, json, "a payment");
    },
  };
}

export type YooKassaApi = ReturnType<typeof yookassaApi>;
