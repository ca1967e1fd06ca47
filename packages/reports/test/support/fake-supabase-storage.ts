// A local HTTP server speaking the part of the Supabase Storage API that @supabase/storage-js uses
// for reports: upload (POST /object/<bucket>/<path>, x-upsert), sign (POST /object/sign/<bucket>/<path>),
// download (GET /object/<bucket>/<path>) and the signed link itself (GET /object/sign/...?token=).
// Errors have Storage's JSON shape: { statusCode, error, message }.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string | undefined;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
}

export class FakeSupabaseStorage {
  readonly objects = new Map<string, StoredObject>();
  readonly requests: RecordedRequest[] = [];
  readonly #tokens = new Map<string, { key: string; expiresAt: number }>();
  readonly #server: Server;
  readonly #serviceKey: string;
  #failures: Array<number> = [];

  private constructor(serviceKey: string) {
    this.#serviceKey = serviceKey;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
  }

  static async start(serviceKey: string): Promise<FakeSupabaseStorage> {
    const storage = new FakeSupabaseStorage(serviceKey);
    await new Promise<void>((resolve) => storage.#server.listen(0, "127.0.0.1", resolve));
    return storage;
  }

  /** The project URL to give the client (Storage lives under /storage/v1). */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The next `count` requests get this HTTP status (an outage). */
  failNext(count: number, status = 503): void {
    this.#failures.push(...Array.from({ length: count }, () => status));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.url);
    const body = await readBody(request);
    this.requests.push({ method: request.method ?? "", path: url.pathname, headers: request.headers });
    const failure = this.#failures.shift();
    if (failure) return sendError(response, failure, String(failure), "InternalError", "storage is down");

    const prefix = "/storage/v1/object/";
    if (!url.pathname.startsWith(prefix))
      return sendError(response, 404, "404", "not_found", "unknown route");
    const rest = decodeURIComponent(url.pathname.slice(prefix.length));

    if (request.method === "GET" && rest.startsWith("sign/")) {
      const token = this.#tokens.get(url.searchParams.get("token") ?? "");
      if (!token || token.key !== rest.slice("sign/".length) || token.expiresAt < Date.now()) {
        return sendError(response, 400, "InvalidJWT", "InvalidJWT", "invalid signature");
      }
      return this.#sendObject(response, token.key);
    }

    if (
      request.headers.authorization !== `Bearer ${this.#serviceKey}` ||
      request.headers.apikey !== this.#serviceKey
    ) {
      return sendError(response, 403, "403", "Unauthorized", "invalid service key");
    }

    if (request.method === "POST" && rest.startsWith("sign/")) {
      const key = rest.slice("sign/".length);
      if (!this.objects.has(key)) return sendError(response, 400, "404", "not_found", "Object not found");
      const { expiresIn } = JSON.parse(body.toString("utf8")) as { expiresIn: number };
      const token = randomBytes(12).toString("hex");
      this.#tokens.set(token, { key, expiresAt: Date.now() + expiresIn * 1000 });
      return sendJson(response, 200, { signedURL: `/object/sign/${key}?token=${token}` });
    }
    if (request.method === "POST") {
      if (this.objects.has(rest) && request.headers["x-upsert"] !== "true") {
        return sendError(response, 400, "409", "Duplicate", "The resource already exists");
      }
      this.objects.set(rest, {
        body,
        contentType: String(request.headers["content-type"]),
        cacheControl: request.headers["cache-control"],
      });
      return sendJson(response, 200, { Id: randomBytes(8).toString("hex"), Key: rest });
    }
    if (request.method === "GET") return this.#sendObject(response, rest);
    return sendError(response, 405, "405", "method_not_allowed", "method not allowed");
  }

  #sendObject(response: ServerResponse, key: string): void {
    const object = this.objects.get(key);
    if (!object) {
      sendError(response, 400, "404", "not_found", "Object not found");
      return;
    }
    response.writeHead(200, { "content-type": object.contentType, "content-length": object.body.length });
    response.end(object.body);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
}

function sendError(
  response: ServerResponse,
  status: number,
  statusCode: string,
  error: string,
  message: string,
) {
  sendJson(response, status, { statusCode, error, message });
}
