import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./worker-metrics.ts";

export interface HealthSource {
  /** Live: the process is not wedged (the event loop answers). */
  readonly live: () => boolean;
  /** Shown beside the liveness status (the worker's heartbeat). */
  readonly details?: () => Readonly<Record<string, unknown>>;
  /** Ready: the database answers and every consumer reads. Returns the failing parts. */
  readonly ready: () => Promise<readonly string[]>;
}

/** /healthz (liveness), /readyz (readiness, for load balancers and Kubernetes), /metrics (Prometheus). */
export async function startHttpServer(options: {
  host: string;
  port: number;
  health: HealthSource;
  metrics: WorkerMetrics;
  logger: Logger;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    try {
      const path = new URL(request.url ?? "/", "http://worker").pathname;
      if (request.method !== "GET") {
        response.writeHead(405, { allow: "GET" }).end();
      } else if (path === "/healthz") {
        const live = options.health.live();
        response.writeHead(live ? 200 : 503, { "content-type": "application/json" });
        response.end(JSON.stringify({ status: live ? "ok" : "down", ...options.health.details?.() }));
      } else if (path === "/readyz") {
        const failing = await options.health.ready();
        response.writeHead(failing.length ? 503 : 200, { "content-type": "application/json" });
        response.end(JSON.stringify({ status: failing.length ? "not_ready" : "ready", failing }));
      } else if (path === "/metrics") {
        const body = await options.metrics.registry.metrics();
        response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(body);
      } else {
        response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      }
    } catch (error) {
      options.logger.error({ err: error }, "ops endpoint failed");
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
