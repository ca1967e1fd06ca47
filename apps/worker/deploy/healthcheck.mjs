// Health probe for containers: exits 0 when the worker's ops server answers 2xx on the given path
// (default /healthz), 1 otherwise. Node's own fetch, because the slim image has no curl or wget.
//
//   node deploy/healthcheck.mjs            # liveness (Dockerfile HEALTHCHECK, compose healthcheck)
//   node deploy/healthcheck.mjs /readyz    # readiness: database reachable, every consumer reading
//
// It reads the same WORKER_HTTP_HOST / WORKER_HTTP_PORT the worker listens on.

const path = process.argv[2] ?? "/healthz";
const port = process.env.WORKER_HTTP_PORT || "8080";
const bound = process.env.WORKER_HTTP_HOST || "127.0.0.1";
// A wildcard address is reachable on loopback; anything else is dialled as configured.
const host = bound === "0.0.0.0" || bound === "::" ? "127.0.0.1" : bound.includes(":") ? `[${bound}]` : bound;
const url = new URL(path, `http://${host}:${port}`);

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok) {
    console.error(`${url}: HTTP ${response.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
