import { type ChildProcess, spawn } from "node:child_process";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { denoBinary, denoEnvironment, functionsDir } from "./deno.ts";
import { freePort } from "./postgres/free-port.ts";

/** The Edge Functions in supabase/functions the devstack serves. */
export const edgeFunctionNames = ["yookassa-webhook", "create-payment", "unsubscribe"] as const;

export interface EdgeFunctionsOptions {
  /** Function folders under supabase/functions to serve. */
  readonly names: readonly string[];
  /** The functions' environment (Supabase injects SUPABASE_URL and the keys; the rest are secrets). */
  readonly env: Readonly<Record<string, string>>;
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Each line a function prints, and start-up events. */
  readonly log?: (line: string, fields?: Readonly<Record<string, unknown>>) => void;
  /** How long the first start may take (Deno fetches the npm imports once). Default 120 s. */
  readonly startTimeoutMs?: number;
}

export interface EdgeFunctions {
  /** `http://127.0.0.1:<port>/functions/v1`: a function is `${url}/<name>`, as on Supabase. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Serves Edge Functions the way Supabase's gateway does, at `/functions/v1/<name>`: each function
 * runs under Deno (the npm-shipped binary) as its own process, on a port of its own
 * (`DENO_SERVE_ADDRESS`, which `Deno.serve` obeys), behind one HTTP front that forwards requests
 * with `X-Forwarded-For`. The gateway's JWT check is not reproduced: functions that need a user
 * hand the JWT to the database API, which verifies it.
 *
 * ### Examples
 * ```ts
 * const functions = await startEdgeFunctions({ names: ["yookassa-webhook"], env });
 * await fetch(`${functions.url}/yookassa-webhook`, { method: "POST", body });
 * await functions.stop();
 * ```
 */
export async function startEdgeFunctions(options: EdgeFunctionsOptions): Promise<EdgeFunctions> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const started: Array<{ name: string; port: number; child: ChildProcess }> = [];
  const stopChildren = async () => {
    await Promise.all(started.map(({ child }) => stopChild(child)));
  };
  try {
    for (const name of options.names) {
      const port = await freePort("127.0.0.1", 0);
      const child = spawn(denoBinary(), ["run", "--allow-net", "--allow-env", join(name, "index.ts")], {
        cwd: functionsDir,
        env: {
          // The parent's environment (proxy and CA settings reach Deno's npm download), then the
          // functions' own variables on top.
          ...denoEnvironment(process.env),
          ...options.env,
          DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      started.push({ name, port, child });
      const output: string[] = [];
      for (const stream of [child.stdout, child.stderr]) {
        stream?.setEncoding("utf8");
        stream?.on("data", (chunk: string) => {
          for (const line of chunk.split("\n")) {
            if (!line.trim()) continue;
            output.push(line);
            if (output.length > 50) output.shift();
            log(line, { function: name });
          }
        });
      }
      await waitUntilServing(name, port, child, output, options.startTimeoutMs ?? 120_000);
    }
  } catch (error) {
    await stopChildren();
    throw error;
  }

  const ports = new Map(started.map(({ name, port }) => [name, port]));
  const server = createServer((request, response) => forward(request, response, ports));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/functions/v1`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopChildren();
    },
  };
}

function forward(
  request: IncomingMessage,
  response: ServerResponse,
  ports: ReadonlyMap<string, number>,
): void {
  const match = /^\/functions\/v1\/([^/?]+)(.*)$/.exec(request.url ?? "");
  const port = match?.[1] ? ports.get(match[1]) : undefined;
  if (!match || port === undefined) {
    response
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ error: "function not found" }));
    return;
  }
  const forwardedFor = [request.headers["x-forwarded-for"], request.socket.remoteAddress]
    .filter(Boolean)
    .join(", ");
  const upstream = httpRequest(
    {
      host: "127.0.0.1",
      port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, "x-forwarded-for": forwardedFor },
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on("error", (error) => {
    if (!response.headersSent) response.writeHead(502, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: "function unavailable", detail: error.message }));
  });
  request.pipe(upstream);
}

async function waitUntilServing(
  name: string,
  port: number,
  child: ChildProcess,
  output: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Edge Function ${name} exited before serving:\n${output.slice(-20).join("\n")}`);
    }
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "OPTIONS",
        signal: AbortSignal.timeout(1000),
      });
      await answer.arrayBuffer();
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Edge Function ${name} did not start within ${timeoutMs / 1000} s:\n${output.slice(-20).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
