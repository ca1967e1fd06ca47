import { pino } from "pino";
import { buildProcessors } from "../../src/build-processors.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { type RunningWorker, startWorker } from "../../src/worker.ts";

/** The environment a worker needs against a test database and an SMTP sink (no secrets: trust auth). */
export function testWorkerEnv(options: {
  databaseUrl: string;
  smtpPort: number;
  env?: Record<string, string>;
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(options.smtpPort),
    SMTP_SECURE: "none",
    SMTP_FROM: "noreply@balansity.test",
    WORKER_HTTP_HOST: "127.0.0.1",
    WORKER_HTTP_PORT: "0",
    WORKER_POLL_INTERVAL_MS: "250",
    WORKER_SHUTDOWN_TIMEOUT_MS: "5000",
    WORKER_SCHEDULER: "off",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...options.env,
  };
}

/** A real worker in this process: consumers, LISTEN, HTTP, processors (SMTP to the given port). */
export async function startTestWorker(options: {
  databaseUrl: string;
  smtpPort: number;
  env?: Record<string, string>;
  random?: () => number;
}): Promise<RunningWorker> {
  const config = loadConfig(testWorkerEnv(options));
  const logger = pino({ level: config.logLevel });
  return startWorker({
    config,
    logger,
    processors: (pool) => buildProcessors({ config, pool, logger }),
    ...(options.random ? { random: options.random } : {}),
  });
}

/** The worker's /readyz: its status code and the failing parts it names. */
export async function readiness(url: string): Promise<{ status: number; failing: string[] }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, failing: ((await response.json()) as { failing: string[] }).failing };
}

export { waitFor } from "./wait-for.ts";
