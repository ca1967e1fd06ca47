// The YooKassa client against a local server speaking the API over real HTTP: what it sends, how it
// reads a payment, and how every failure is classified (retry vs dead-letter queue).
import { createServer } from "node:net";
import { startYooKassaStandIn, type YooKassaStandIn } from "@balansity/devstack/yookassa-stand-in";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "../src/consumer/errors.ts";
import { YooKassaClient } from "../src/payments/yookassa-client.ts";

let yookassa: YooKassaStandIn;
let client: YooKassaClient;

beforeAll(async () => {
  yookassa = await startYooKassaStandIn();
  client = new YooKassaClient({
    apiUrl: `${yookassa.apiUrl}/`,
    shopId: yookassa.shopId,
    secretKey: yookassa.secretKey,
    timeoutMs: 2_000,
  });
});

afterAll(() => yookassa?.close());

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the call to fail");
}

describe("YooKassaClient.getPayment", () => {
  it("reads a payment with HTTP Basic auth (shop id : secret key)", async () => {
    const remote = yookassa.putPayment({
      status: "canceled",
      paid: false,
      amount: { value: "2500.50", currency: "RUB" },
      cancellation_details: { party: "payment_network", reason: "insufficient_funds" },
    });
    const payment = await client.getPayment(remote.id);
    expect(payment).toEqual({
      id: remote.id,
      status: "canceled",
      paid: false,
      amount: { value: "2500.50", currency: "RUB" },
      cancellation: { party: "payment_network", reason: "insufficient_funds" },
      createdAt: remote.created_at,
      capturedAt: undefined,
    });
    const last = yookassa.requests.at(-1);
    expect(last).toEqual({ method: "GET", path: `/v3/payments/${remote.id}`, authorized: true });
  });

  it("escapes the payment id into one path segment", async () => {
    await failure(client.getPayment("../refunds/x"));
    expect(yookassa.requests.at(-1)?.path).toBe("/v3/payments/..%2Frefunds%2Fx");
  });

  it("404: PermanentError payment_not_found", async () => {
    const error = await failure(client.getPayment("no-such-payment"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("payment_not_found");
    expect(error.message).toContain("no-such-payment");
  });

  it("401 (wrong secret key): RetryableError provider_auth, and the secret appears nowhere", async () => {
    const remote = yookassa.putPayment({ status: "succeeded" });
    const wrongSecret = `${yookassa.secretKey}-wrong`;
    const wrong = new YooKassaClient({
      apiUrl: yookassa.apiUrl,
      shopId: yookassa.shopId,
      secretKey: wrongSecret,
    });
    const error = await failure(wrong.getPayment(remote.id));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_auth");
    expect(error.message).toContain("PAYMENT_SECRET_KEY");
    expect(yookassa.requests.at(-1)?.authorized).toBe(false);
    const everything = `${error.message} ${error.stack} ${JSON.stringify(error)} ${JSON.stringify(wrong)}`;
    expect(everything).not.toContain(wrongSecret);
    expect(everything).not.toContain(Buffer.from(`${yookassa.shopId}:${wrongSecret}`).toString("base64"));
  });

  it("403: RetryableError provider_auth", async () => {
    yookassa.failNext({ kind: "status", status: 403 });
    const error = await failure(client.getPayment("any"));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_auth");
  });

  it.each([500, 502, 503, 429])("%i: RetryableError provider_unavailable", async (status) => {
    yookassa.failNext({ kind: "status", status });
    const error = await failure(client.getPayment("any"));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_unavailable");
    expect(error.message).toContain(String(status));
  });

  it("400: PermanentError provider_rejected", async () => {
    yookassa.failNext({ kind: "status", status: 400 });
    const error = await failure(client.getPayment("any"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("provider_rejected");
  });

  it("a body that is not JSON: PermanentError provider_bad_response", async () => {
    yookassa.failNext({ kind: "malformed" });
    const error = await failure(client.getPayment("any"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("provider_bad_response");
  });

  it("JSON that is not a payment object: PermanentError provider_bad_response naming the field", async () => {
    const remote = yookassa.putPayment({ status: "succeeded", amount: { value: "15,00", currency: "RUB" } });
    const error = await failure(client.getPayment(remote.id));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("provider_bad_response");
    expect(error.message).toContain("amount.value");
  });

  it("no answer within the timeout: RetryableError provider_unavailable", async () => {
    const remote = yookassa.putPayment({ status: "succeeded" });
    const impatient = new YooKassaClient({
      apiUrl: yookassa.apiUrl,
      shopId: yookassa.shopId,
      secretKey: yookassa.secretKey,
      timeoutMs: 100,
    });
    yookassa.failNext({ kind: "slow", delayMs: 5_000 });
    const started = performance.now();
    const error = await failure(impatient.getPayment(remote.id));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_unavailable");
    expect(error.message).toContain("100 ms");
  });

  it("a slow answer within the timeout is fine", async () => {
    const remote = yookassa.putPayment({ status: "pending" });
    yookassa.failNext({ kind: "slow", delayMs: 150 });
    await expect(client.getPayment(remote.id)).resolves.toMatchObject({ id: remote.id, status: "pending" });
  });

  it("nobody listening: RetryableError provider_unavailable", async () => {
    const port = await freePort();
    const offline = new YooKassaClient({
      apiUrl: `http://127.0.0.1:${port}/v3`,
      shopId: "1",
      secretKey: "secret-that-must-not-leak",
    });
    const error = await failure(offline.getPayment("any"));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("provider_unavailable");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("secret-that-must-not-leak");
  });

  it("the caller's abort signal (shutdown) stops the request: RetryableError aborted", async () => {
    const remote = yookassa.putPayment({ status: "succeeded" });
    yookassa.failNext({ kind: "slow", delayMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutdown")), 50);
    const error = await failure(client.getPayment(remote.id, { signal: controller.signal }));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe("aborted");
  });
});

/** A port nothing listens on: bind one, note it, close it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}
